/**
 * Saving a result's output files lives in core (`downloadOutputs`, packages/core/src/queue/
 * download.ts): an idle timeout and a size cap per file, an abort signal for `--timeout`,
 * extensions from the bytes (never from fal's `file_name`), names that cannot leave the
 * output folder, and no `.part` file left on any exit. The CLI uses it as it is.
 */
export {
  DEFAULT_DOWNLOAD_IDLE_TIMEOUT_MS,
  DEFAULT_DOWNLOAD_MAX_BYTES,
  type DownloadOutputsOptions as DownloadOptions,
  downloadOutputs,
  extensionFor,
  findOutputFiles,
  type OutputRef,
  sanitiseFileName,
} from '@falai/core';
