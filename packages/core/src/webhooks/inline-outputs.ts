import { createHash } from 'node:crypto';
import { link, mkdir, open, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { extensionFor } from '../queue/download.js';
import { decodeDataUri, isDataUri } from '../store/output-summary.js';
import type { OutputFile } from '../store/record.js';

/** What {@link saveInlineOutputs} wrote. */
export interface SavedInlineOutputs {
  /** The file of each data URI, by `sha256:<hex>` of its bytes (for `summariseOutput`'s `files`). */
  readonly files: ReadonlyMap<string, string>;
  /** The same files as record outputs (`url: 'data:'`, as `falai download` writes them). */
  readonly outputs: readonly OutputFile[];
}

/** Every distinct data URI in an output, in document order. */
function dataUrisIn(output: unknown): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  const visit = (value: unknown): void => {
    if (isDataUri(value)) {
      if (!seen.has(value)) {
        seen.add(value);
        found.push(value);
      }
      return;
    }
    if (Array.isArray(value)) for (const item of value) visit(item);
    else if (typeof value === 'object' && value !== null) {
      for (const item of Object.values(value)) visit(item);
    }
  };
  visit(output);
  return found;
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Writes every inline `data:` URI of an output to `<dir>/<requestId>-<digest12>.<ext>`, so the
 * record can keep a reference instead of the bytes. The extension comes from the bytes (the
 * URI's declared type only when the content is not recognised), never from a name fal sent.
 * Each file is decoded a step at a time into a temporary name, then linked into place; a file
 * that already exists under its digest name is the same bytes (a replayed delivery) and is
 * kept. The request id is reduced to `[A-Za-z0-9._-]`, so it cannot leave `dir`.
 */
export async function saveInlineOutputs(
  output: unknown,
  options: { readonly dir: string; readonly requestId: string },
): Promise<SavedInlineOutputs> {
  const uris = dataUrisIn(output);
  const files = new Map<string, string>();
  const outputs: OutputFile[] = [];
  if (uris.length === 0) return { files, outputs };
  const dir = resolve(options.dir);
  await mkdir(dir, { recursive: true });
  const stem = options.requestId
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^\.+/, '_')
    .slice(0, 100);
  for (const [index, uri] of uris.entries()) {
    const { mime, chunks } = decodeDataUri(uri);
    const temp = join(dir, `.${stem}-${process.pid}-${index}.part`);
    const hash = createHash('sha256');
    let size = 0;
    let head: Buffer | undefined;
    const handle = await open(temp, 'w', 0o644);
    try {
      for (const chunk of chunks) {
        head ??= chunk.subarray(0, 4100);
        hash.update(chunk);
        size += chunk.length;
        await handle.write(chunk);
      }
    } catch (error) {
      await handle.close();
      await rm(temp, { force: true });
      throw error;
    }
    await handle.close();
    try {
      const digest = `sha256:${hash.digest('hex')}`;
      const type = await typeOf(head, mime);
      const path = join(dir, `${stem}-${digest.slice(7, 19)}.${type.ext}`);
      if (!(await exists(path))) {
        try {
          await link(temp, path);
        } catch (error) {
          // Another delivery of the same request wrote the same bytes first.
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
      }
      files.set(digest, path);
      outputs.push({ url: 'data:', path, size, mime: type.mime });
    } finally {
      await rm(temp, { force: true });
    }
  }
  return { files, outputs };
}

/** The file's type from its first bytes; the URI's declared type when they are not recognised. */
async function typeOf(
  head: Buffer | undefined,
  declared: string,
): Promise<{ ext: string; mime: string }> {
  if (head && head.length > 0) {
    const { sniffFile } = await import('../media/sniff.js');
    const sniffed = await sniffFile(head);
    if (sniffed.mime !== 'application/octet-stream' && sniffed.mime !== 'text/plain') {
      return {
        ext: sniffed.ext.replace(/[^A-Za-z0-9]/g, '').slice(0, 8) || 'bin',
        mime: sniffed.mime,
      };
    }
  }
  return { ext: extensionFor({ url: 'data:', contentType: declared }), mime: declared };
}
