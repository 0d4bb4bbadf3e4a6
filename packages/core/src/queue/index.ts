export * from './client.js';
export * from './endpoint-id.js';
export * from './errors.js';
export * from './poll-policy.js';
export * from './retry.js';
export * from './status.js';
export * from './types.js';
export {
  DEFAULT_MULTIPART_THRESHOLD_BYTES,
  DEFAULT_PART_SIZE_BYTES,
  guessContentType,
} from './upload.js';
