import { createMemoryStore } from '@falai/core/store-kit';
import { describeStoreConformance } from '../src/index.js';

describeStoreConformance({
  name: 'memory (reference)',
  create: async (options) => createMemoryStore(options),
  persistsNothing: 'a map in this process',
});
