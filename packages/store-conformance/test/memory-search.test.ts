import { createMemoryStore } from '@falai/core/store-kit';
import { describeSearchConformance } from '../src/index.js';

describeSearchConformance({ name: 'memory', create: async () => createMemoryStore() });
