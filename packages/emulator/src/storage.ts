import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FileStore } from './files.js';
import { parseJson, readBody, sendJson } from './http-util.js';
import { paced, stallUpload, type TransferShape } from './transfer.js';

interface PendingUpload {
  multipart: boolean;
  contentType: string;
  fileUrlPath: string;
  parts: Map<number, { path: string; etag: string; size: number }>;
  done: boolean;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Keeps file names URL-safe so served paths match byte for byte. */
function safeName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 120);
  return cleaned.length > 0 ? cleaned : 'file';
}

/** Storage types fal's clients send (reference §9): JS `fal-cdn-v3`, Python's fallback `gcs`. */
export const STORAGE_TYPES = ['fal-cdn-v3', 'fal-cdn', 'gcs'];

/**
 * [?] fal's answer to a missing or unknown `storage_type` is not documented; the emulator
 * refuses both with a pydantic-style 422 on the query parameter so a client that forgets it
 * is caught.
 */
export function storageTypeIssue(value: string | null): object | undefined {
  const loc = ['query', 'storage_type'];
  if (value === null) {
    return {
      type: 'missing',
      loc,
      msg: 'Field required',
      input: null,
      url: 'https://docs.fal.ai/errors#missing',
    };
  }
  if (STORAGE_TYPES.includes(value)) return undefined;
  const expected = "'fal-cdn-v3', 'fal-cdn' or 'gcs'";
  return {
    type: 'literal_error',
    loc,
    msg: `Input should be ${expected}`,
    input: value,
    ctx: { expected },
    url: 'https://docs.fal.ai/errors#literal_error',
  };
}

/**
 * Streams a request body to disk (never buffering it) at the transfer's pace and returns its
 * size and MD5.
 */
async function streamToFile(req: IncomingMessage, path: string, bandwidth?: number) {
  const out = createWriteStream(path);
  const hash = createHash('md5');
  let size = 0;
  for await (const buffer of paced(req, bandwidth)) {
    size += buffer.length;
    hash.update(buffer);
    if (!out.write(buffer)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { size, etag: hash.digest('hex') };
}

/**
 * fal's storage API (reference §9): initiate returns a pre-signed-style `upload_url` and the
 * final `file_url`; the bytes arrive by PUT (whole, or in numbered parts plus `complete`).
 */
export class Storage {
  private readonly uploads = new Map<string, PendingUpload>();
  private counter = 0;

  constructor(
    private readonly files: FileStore,
    private readonly origin: () => string,
    private readonly deterministic: boolean,
  ) {}

  private token(): string {
    this.counter += 1;
    return this.deterministic ? `upload-${this.counter}` : randomUUID();
  }

  /**
   * `POST /storage/upload/initiate[-multipart]?storage_type=…` with `{content_type, file_name}`.
   */
  async initiate(
    req: IncomingMessage,
    res: ServerResponse,
    multipart: boolean,
    storageType: string | null,
  ): Promise<unknown> {
    const body = parseJson(await readBody(req));
    const bad = storageTypeIssue(storageType);
    if (bad) {
      sendJson(res, 422, { detail: [bad] });
      return body;
    }
    const input = isRecord(body) ? body : {};
    const contentType =
      typeof input.content_type === 'string' ? input.content_type : 'application/octet-stream';
    const fileName = safeName(typeof input.file_name === 'string' ? input.file_name : 'file');
    const token = this.token();
    const fileUrlPath = `/files/uploads/${token}/${fileName}`;
    this.uploads.set(token, { multipart, contentType, fileUrlPath, parts: new Map(), done: false });
    const kind = multipart ? 'multipart' : 'object';
    sendJson(res, 200, {
      upload_url: `${this.origin()}/storage/upload/${kind}/${token}`,
      file_url: `${this.origin()}${fileUrlPath}`,
    });
    return body;
  }

  /** `PUT <upload_url>`: the whole file. Returns the byte count for the request log. */
  async put(
    token: string,
    req: IncomingMessage,
    res: ServerResponse,
    shape: TransferShape = {},
  ): Promise<number> {
    const upload = this.uploads.get(token);
    if (!upload || upload.multipart) {
      req.resume();
      sendJson(res, 404, { detail: 'Unknown or expired upload URL' });
      return 0;
    }
    if (shape.stallAfter !== undefined) return stallUpload(req, shape.stallAfter);
    const path = this.files.tempPath('-upload');
    const { size } = await streamToFile(req, path, shape.bandwidth);
    const contentType =
      upload.contentType || req.headers['content-type'] || 'application/octet-stream';
    this.files.register(upload.fileUrlPath, { path, contentType, size });
    upload.done = true;
    sendJson(res, 200, {});
    return size;
  }

  /** `PUT <upload_url>/<partNumber>`: one part; answers `{partNumber, etag}`. */
  async putPart(
    token: string,
    partNumber: number,
    req: IncomingMessage,
    res: ServerResponse,
    shape: TransferShape = {},
  ): Promise<number> {
    const upload = this.uploads.get(token);
    if (!upload?.multipart || upload.done) {
      req.resume();
      sendJson(res, 404, { detail: 'Unknown or completed multipart upload' });
      return 0;
    }
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) {
      req.resume();
      sendJson(res, 400, { detail: 'Part numbers run from 1 to 10000' });
      return 0;
    }
    if (shape.stallAfter !== undefined) return stallUpload(req, shape.stallAfter);
    const path = this.files.tempPath(`-part-${partNumber}`);
    const { size, etag } = await streamToFile(req, path, shape.bandwidth);
    upload.parts.set(partNumber, { path, etag, size });
    sendJson(res, 200, { partNumber, etag });
    return size;
  }

  /** `POST <upload_url>/complete` with `{parts:[{partNumber, etag}]}`: assembles the file. */
  async complete(token: string, req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    const body = parseJson(await readBody(req));
    const upload = this.uploads.get(token);
    if (!upload?.multipart || upload.done) {
      sendJson(res, 404, { detail: 'Unknown or completed multipart upload' });
      return body;
    }
    const listed = isRecord(body) && Array.isArray(body.parts) ? body.parts : undefined;
    if (!listed || listed.length === 0) {
      sendJson(res, 400, { detail: 'Body must be {"parts":[{"partNumber":1,"etag":"..."}]}' });
      return body;
    }
    const chosen = [];
    for (const item of listed) {
      const number = isRecord(item) ? Number(item.partNumber) : Number.NaN;
      const part = upload.parts.get(number);
      if (!part || !isRecord(item) || item.etag !== part.etag) {
        sendJson(res, 400, { detail: `Part ${String(number)} is missing or its etag differs` });
        return body;
      }
      chosen.push({ number, part });
    }
    chosen.sort((a, b) => a.number - b.number);
    const path = this.files.tempPath('-assembled');
    const out = createWriteStream(path);
    for (const { part } of chosen) {
      for await (const chunk of createReadStream(part.path)) {
        if (!out.write(chunk)) await once(out, 'drain');
      }
    }
    out.end();
    await once(out, 'finish');
    const { size } = await stat(path);
    this.files.register(upload.fileUrlPath, { path, contentType: upload.contentType, size });
    upload.done = true;
    sendJson(res, 200, { file_url: `${this.origin()}${upload.fileUrlPath}` });
    return body;
  }
}
