export * from './client.js';
export {
  DEFAULT_DOWNLOAD_IDLE_TIMEOUT_MS,
  DEFAULT_DOWNLOAD_MAX_BYTES,
  type DownloadOutputsOptions,
  downloadOutputs,
  extensionFor,
  findOutputFiles,
  type OutputRef,
  sanitiseFileName,
} from './download.js';
export * from './endpoint-id.js';
export * from './errors.js';
export { DEFAULT_MAX_RESULT_BYTES, DEFAULT_MAX_STATUS_BYTES, MAX_REDIRECTS } from './http.js';
export * from './poll-policy.js';
export {
  checkRequestId,
  isValidRequestId,
  MAX_REQUEST_ID_LENGTH,
} from './request-id.js';
export * from './retry.js';
export * from './status.js';
export * from './types.js';
export {
  DEFAULT_MULTIPART_THRESHOLD_BYTES,
  DEFAULT_PART_SIZE_BYTES,
  guessContentType,
} from './upload.js';
