import { createMemoryStore } from '@falai/core';
import { describeSearchConformance } from '../src/index.js';

describeSearchConformance({ name: 'memory', create: async () => createMemoryStore() });
