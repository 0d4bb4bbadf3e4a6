/**
 * `@falai/core/store-kit`: what a `PendingStore` adapter needs (the file, SQLite and Redis
 * stores use it, and so may yours): the interface and record schema, the pure decisions every
 * store shares (validate and scrub a record, plan an update, a claim, a budget reservation),
 * the budget ledger's book, search, the seed-file migration, the redactor a store is given,
 * and the errors stores throw. `describeStoreConformance` (the suite a store must pass)
 * builds on these.
 */

export { assertKeyFormat } from './auth/credentials.js';
export { environmentRedactor } from './config/settings.js';
export { FalaiError, StoreError } from './errors/falai-error.js';
export { parseJsonExact, stringifyJsonExact } from './json/exact.js';
export {
  createRedactor,
  REDACTED_SECRET,
  type Redactor,
  scrubWith,
} from './redact/redactor.js';
export * from './store/budget.js';
export * from './store/memory.js';
export * from './store/ops.js';
export * from './store/record.js';
export * from './store/search.js';
export * from './store/seed.js';
export * from './store/spec.js';
export * from './store/types.js';
