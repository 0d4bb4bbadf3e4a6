/**
 * Provenance: how each saved output was made (request id, endpoint, input, seed, timings, cost,
 * lineage), built from the store record, embedded in the file itself (PNG text chunks, XMP in
 * JPEG, WebP and MP4) and read back from the file alone; and history queries over the store.
 */
export * from './build.js';
export * from './file.js';
export * from './history.js';
export * from './schema.js';
export { FALAI_XMP_NAMESPACE } from './xmp.js';
