import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { sourceSize } from './bytes.js';

/** `sha256:<hex>` of a file, streamed: records identify inputs by digest, never by bytes. */
export async function fileDigest(path: string): Promise<string> {
  await sourceSize(path);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}

/** `sha256:<hex>` of bytes in memory (decoded data URIs). */
export function bytesDigest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
