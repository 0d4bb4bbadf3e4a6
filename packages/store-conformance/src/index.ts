/**
 * The one suite every `PendingStore` passes (`describeStoreConformance`), record fixtures,
 * and helpers for multi-process tests (bundle a TypeScript worker, run it N times, kill it).
 */
export * from './budget.js';
export * from './fixtures.js';
export * from './processes.js';
export * from './search.js';
export * from './suite.js';
export * from './workers.js';
