import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseExact, stringifyExact } from './json.js';

/** Largest JSON body accepted (data URIs of big images fit; uploads stream instead). */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;

/** Thrown for a body that cannot be read as JSON; the router turns it into a 400/413. */
export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Sends a JSON response; every emulator answer is JSON, as fal's are (reference §13). `bigint`
 * values (64-bit seeds) are written as their exact digits.
 */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = body === undefined ? '' : stringifyExact(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** Reads the whole body into memory, refusing more than `limit` bytes. */
export async function readBody(req: IncomingMessage, limit = MAX_JSON_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) throw new BodyError(413, `Request body exceeds ${limit} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON body exactly (integers beyond 2^53 become `bigint`); empty yields undefined. */
export function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return parseExact(raw.toString('utf8'));
  } catch {
    throw new BodyError(400, 'Request body is not valid JSON');
  }
}

/** Flattens a URL's query into a plain record (last value wins). */
export function queryRecord(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of url.searchParams) out[key] = value;
  return out;
}

/** Lower-cased request headers with secrets masked, safe to keep in the request log. */
export function redactHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    const lower = name.toLowerCase();
    if (lower === 'authorization') {
      const scheme = text.split(' ')[0] ?? '';
      out[lower] = `${scheme || 'Key'} <masked>`;
    } else if (lower === 'cookie' || lower === 'x-fal-key') {
      out[lower] = '<masked>';
    } else {
      out[lower] = text;
    }
  }
  return out;
}
