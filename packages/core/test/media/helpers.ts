import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The committed fixtures made by test/fixtures/make-media.sh. */
export const FIXTURES = fileURLToPath(new URL('../fixtures/media/', import.meta.url));
export const fixture = (name: string) => join(FIXTURES, name);

/** A temp dir removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'falai-media-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
