import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { DataUriOutput } from '@falai/core';
import { MediaError } from '@falai/core';
import type { DataUriEncoding } from '@falai/core/internal';

/** Fails early, with the path in the message, when a file is missing or not a file. */
export async function assertFile(path: string): Promise<string> {
  const absolute = resolve(path);
  const info = await stat(absolute).catch(() => undefined);
  if (!info)
    throw new MediaError(`File not found: ${path}. Check the path.`, {
      details: { path: absolute },
    });
  if (!info.isFile())
    throw new MediaError(`Not a regular file: ${path}.`, { details: { path: absolute } });
  return absolute;
}

/** The `--json` fields of a data URI command other than the streamed `uri` and `digest`. */
export type DataUriJsonFields = Omit<DataUriOutput, 'uri' | 'digest'>;

/**
 * Writes to a stream, waiting for 'drain' when it is full, and turns a reader that went away
 * (`falai to-data-uri x | head`: EPIPE) into a quiet stop instead of a crash.
 */
class Sink {
  #gone = false;
  #failure: Error | undefined;
  readonly #onError = (error: NodeJS.ErrnoException) => {
    this.#gone = true;
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') this.#failure = error;
  };

  constructor(private readonly out: NodeJS.WritableStream) {
    out.on('error', this.#onError);
  }

  /** False once the reader is gone: stop producing. Throws on any other write error. */
  async write(text: string): Promise<boolean> {
    if (!this.#gone && !this.out.write(text)) await this.#drained();
    if (this.#failure) throw this.#failure;
    return !this.#gone;
  }

  #drained(): Promise<void> {
    return new Promise((done) => {
      const finish = () => {
        this.out.off('drain', finish);
        this.out.off('close', finish);
        this.out.off('error', finish);
        done();
      };
      this.out.on('drain', finish);
      this.out.on('close', finish);
      this.out.on('error', finish);
    });
  }

  /** Keeps a no-op error listener once the reader is gone, so a late EPIPE cannot crash us. */
  release(): void {
    if (!this.#gone) this.out.off('error', this.#onError);
  }
}

/**
 * Streams a data URI to `out` (stdout) chunk by chunk, never holding it whole: alone on its
 * line in human mode (as the seed printed it), or inside the `--json` object, written around
 * the streamed text so it parses as `DataUriOutput` (same layout as oclif's pretty JSON).
 * Resolves with the digest, or undefined when the reader went away early.
 */
export async function streamDataUri(
  encoding: DataUriEncoding,
  json: DataUriJsonFields | undefined,
  out: NodeJS.WritableStream = process.stdout,
): Promise<string | undefined> {
  const sink = new Sink(out);
  try {
    if (json) {
      // `uri` last, `digest` after it: both are known only once the file has been read.
      const head = JSON.stringify({ ...json, uri: '' }, null, 2);
      if (!(await sink.write(head.slice(0, -'"\n}'.length)))) return undefined;
    }
    let first = true;
    for await (const chunk of encoding.chunks) {
      // Base64 needs no JSON escaping; the prefix holds the MIME type, so escape it anyway.
      const text = json && first ? JSON.stringify(chunk).slice(1, -1) : chunk;
      first = false;
      if (!(await sink.write(text))) return undefined;
    }
    const digest = await encoding.digest;
    const tail = json ? `",\n  "digest": ${JSON.stringify(digest)}\n}\n` : '\n';
    return (await sink.write(tail)) ? digest : undefined;
  } finally {
    sink.release();
  }
}
