import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sendJson } from './http-util.js';
import { sendBody, type TransferShape } from './transfer.js';

/** A file the emulator serves under `/files/...`. */
export interface StoredFile {
  path: string;
  contentType: string;
  size: number;
}

/**
 * The emulator's CDN: uploads and generated outputs live as real files in a private temp
 * folder and are streamed back, so 200 MB uploads never sit in memory.
 */
export class FileStore {
  private readonly files = new Map<string, StoredFile>();
  private counter = 0;

  private constructor(readonly root: string) {}

  /** Creates the temp folder that holds every file of one emulator. */
  static async create(): Promise<FileStore> {
    return new FileStore(await mkdtemp(join(tmpdir(), 'falai-emulator-')));
  }

  /** A fresh path inside the store for a file about to be written. */
  tempPath(suffix = ''): string {
    this.counter += 1;
    return join(this.root, `${this.counter}${suffix}`);
  }

  /** Makes `urlPath` (starting with `/files/`) serve the file. */
  register(urlPath: string, file: StoredFile): void {
    this.files.set(urlPath, file);
  }

  get(urlPath: string): StoredFile | undefined {
    return this.files.get(urlPath);
  }

  /**
   * Streams a stored file with its Content-Type and Content-Length; 404 JSON otherwise. The
   * transfer shape caps its bandwidth or stalls it after the headers (and some bytes).
   */
  async serve(
    urlPath: string,
    res: ServerResponse,
    headOnly: boolean,
    shape: TransferShape = {},
  ): Promise<void> {
    const file = this.files.get(urlPath);
    if (!file) {
      sendJson(res, 404, { detail: `File not found: ${urlPath}` });
      return;
    }
    res.writeHead(200, {
      'content-type': file.contentType,
      'content-length': String(file.size),
    });
    if (headOnly) {
      res.end();
      return;
    }
    if (shape.stallAfter !== undefined) res.flushHeaders();
    const stream = createReadStream(file.path);
    stream.on('error', () => res.destroy());
    if (shape.bandwidth === undefined && shape.stallAfter === undefined) {
      stream.pipe(res);
      return;
    }
    res.on('close', () => stream.destroy());
    try {
      await sendBody(stream, res, shape);
    } finally {
      if (shape.stallAfter !== undefined) stream.destroy();
    }
  }

  /** Deletes the temp folder. */
  async close(): Promise<void> {
    this.files.clear();
    // An output or upload still being written when the server closes can re-populate a
    // folder while rm walks it (ENOTEMPTY); Node's own retry covers that window.
    await rm(this.root, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
  }
}
