import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findCliBundle } from '../src/index.js';
import { tempDir } from './helpers.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

/** Lays out files under a temp root and returns the root. */
function layout(files: readonly string[]): string {
  const t = tempDir('falai-bundle-path-');
  cleanup = t.cleanup;
  for (const file of files) {
    mkdirSync(join(t.path, file, '..'), { recursive: true });
    writeFileSync(join(t.path, file), '// bundle\n');
  }
  return t.path;
}

describe('findCliBundle', () => {
  it('finds the single bundle an npm-installed falai ships in dist-bundle/', () => {
    const root = layout([
      'node_modules/falai/dist-bundle/falai.mjs',
      'node_modules/falai/bin/run.js',
    ]);
    const packageRoot = join(root, 'node_modules', 'falai');
    expect(
      findCliBundle({ packageRoot, scriptPath: join(root, 'node_modules', '.bin', 'falai') }),
    ).toBe(join(packageRoot, 'dist-bundle', 'falai.mjs'));
  });

  it('prefers the bundle beside a running skill wrapper, then the flag over everything', () => {
    const root = layout(['skill/scripts/falai.mjs', 'skill/scripts/falai-cli.mjs', 'cli/x']);
    const packageRoot = join(root, 'cli');
    const scriptPath = join(root, 'skill', 'scripts', 'falai.mjs');
    expect(findCliBundle({ packageRoot, scriptPath })).toBe(
      join(root, 'skill', 'scripts', 'falai-cli.mjs'),
    );
    expect(findCliBundle({ flag: join(root, 'other.mjs'), packageRoot, scriptPath })).toBe(
      join(root, 'other.mjs'),
    );
  });

  it('returns undefined when a package has no bundle, so the builder reports it', () => {
    const root = layout(['node_modules/falai/bin/run.js']);
    expect(findCliBundle({ packageRoot: join(root, 'node_modules', 'falai') })).toBeUndefined();
  });
});
