import { FalaiError, type FalaiErrorOptions } from '@falai/core';

/** The codes a gallery error carries (core's codes, so the CLI's exit table applies). */
export type GalleryErrorCode = 'OUTPUT_EXISTS' | 'OUTPUT_WRITE_FAILED' | 'USAGE' | 'INTERNAL';

/**
 * Something the gallery could not do: a folder that is not a gallery in the way (`OUTPUT_EXISTS`),
 * a file that could not be written (`OUTPUT_WRITE_FAILED`), a port taken (`USAGE`). The message
 * says what to do.
 */
export class GalleryError extends FalaiError {
  constructor(code: GalleryErrorCode, message: string, options: FalaiErrorOptions = {}) {
    super(code, message, options);
    this.name = 'GalleryError';
  }
}
