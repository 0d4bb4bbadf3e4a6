/**
 * Local media: real types from bytes, image and MP4/MOV probing, streamed data URIs and
 * digests, model video limits, and preparing inputs that name local files.
 * Parsers (file-type, image-size, mediabunny) load lazily inside the functions.
 */
export { formatBytes, type MediaSource } from './bytes.js';
export {
  type DataUriEncoding,
  type DataUriResult,
  DEFAULT_DATA_URI_MAX_BYTES,
  DEFAULT_DATA_URI_WARN_BYTES,
  encodeDataUri,
  type ToDataUriOptions,
  toDataUri,
} from './data-uri.js';
export { bytesDigest, fileDigest } from './digest.js';
export { type ClassifiedFileRef, classifyFileRef, type FileRefKind } from './file-ref.js';
export {
  type BytesUploader,
  DEFAULT_UPLOAD_THRESHOLD_BYTES,
  type FileUploader,
  type PreparedInput,
  type PrepareInputOptions,
  type PrepareProgress,
  prepareInput,
} from './prepare-input.js';
export { type ImageProbe, probeImage } from './probe-image.js';
export { probeVideo, type VideoProbe } from './probe-video.js';
export { type SniffResult, sniffFile } from './sniff.js';
export { checkVideoLimits, type VideoLimitRules } from './video-limits.js';
