import { createMemoryStore } from '@falai/core';
import { describeStoreConformance } from '../src/index.js';

describeStoreConformance({
  name: 'memory (reference)',
  create: async () => createMemoryStore(),
  persistsNothing: 'a map in this process',
});
