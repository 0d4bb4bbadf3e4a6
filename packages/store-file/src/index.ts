/**
 * `@falai/store-file`: the default `PendingStore`, one JSON file replaced atomically under a
 * cross-process lock. See the README for the file format and the default path.
 */
export { createFileStore, type FileStore, type FileStoreOptions } from './file-store.js';
export { FILE_FORMAT_VERSION } from './format.js';
