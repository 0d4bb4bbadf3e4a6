/**
 * `@falai/store-sqlite`: a `PendingStore` on SQLite with WAL, a busy timeout, versioned
 * migrations and transactional conditional updates.
 */
export {
  FALAI_APPLICATION_ID,
  MIGRATIONS,
  type Migration,
  SCHEMA_VERSION,
} from './migrations.js';
export { createSqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
