/**
 * `@falai/store-file`: the default `PendingStore`, a JSON snapshot plus an append-only journal
 * under a cross-process lock. See the README for the file format and the default path.
 */
export {
  type CommitPoint,
  createFileStore,
  type FileStore,
  type FileStoreOptions,
  testHooksFromEnv,
} from './file-store.js';
export { FILE_FORMAT_VERSION } from './format.js';
