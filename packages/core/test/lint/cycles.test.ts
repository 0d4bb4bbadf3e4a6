import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `pnpm lint:cycles` (scripts/check-cycles.mjs, part of `pnpm lint`): no import cycle between
 * files or folders of any package's sources. Run on small fixtures, and on the repository.
 */
const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const script = join(root, 'scripts', 'check-cycles.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'falai-cycles-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Writes a fixture package's sources (path → text) and returns its folder. */
function fixture(name: string, files: Record<string, string>): string {
  const dir = join(tmp, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

async function check(cwd: string, args: readonly string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args], { cwd });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

describe('pnpm lint:cycles', () => {
  it('fails on a file cycle, naming the files', async () => {
    const dir = fixture('files', {
      'src/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
      'src/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
      'src/c.ts': "import { a } from './a.js';\nexport const c = a;\n",
    });
    const { code, out } = await check(dir, ['src']);
    expect(code).toBe(1);
    expect(out).toMatch(/no-file-cycle: src\/a\.ts → \s+src\/b\.ts →\s+src\/a\.ts/);
    expect(out).not.toContain('src/c.ts →');
    expect(out).toContain('lint:cycles: import cycles found in src');
  });

  it('fails on a folder cycle that no single file closes, naming the folders', async () => {
    const dir = fixture('folders', {
      'src/media/probe.ts':
        "import { label } from '../models/describe.js';\nexport const probe = label;\n",
      'src/models/describe.ts': "export const label = 'x';\n",
      'src/models/check.ts':
        "import { size } from '../media/size.js';\nexport const check = size;\n",
      'src/media/size.ts': 'export const size = 1;\n',
    });
    const { code, out } = await check(dir, ['src']);
    expect(code).toBe(1);
    expect(out).not.toContain('no-file-cycle');
    expect(out).toMatch(/no-folder-cycle: src\/media → \s+src\/models →\s+src\/media/);
  });

  it('counts type-only imports', async () => {
    const dir = fixture('types', {
      'src/registry.ts':
        "import type { Limits } from './limits.js';\nexport interface Registry { limits: Limits }\n",
      'src/limits.ts':
        "import type { Registry } from './registry.js';\nexport interface Limits { of(registry: Registry): number }\n",
    });
    const { code, out } = await check(dir, ['src']);
    expect(code).toBe(1);
    expect(out).toMatch(
      /no-file-cycle: src\/(registry|limits)\.ts → \s+src\/(limits|registry)\.ts/,
    );
  });

  it('passes on layered folders', async () => {
    const dir = fixture('layered', {
      'src/media/probe.ts':
        "import { label } from '../json/values.js';\nexport const probe = label;\n",
      'src/models/check.ts':
        "import { probe } from '../media/probe.js';\nimport { label } from '../json/values.js';\nexport const check = [probe, label];\n",
      'src/json/values.ts': "export const label = 'x';\n",
      'src/index.ts': "export * from './models/check.js';\n",
    });
    const { code, out } = await check(dir, ['src']);
    expect(out).toContain('lint:cycles: no import cycles in src');
    expect(code).toBe(0);
  });

  it('passes on the repository: every package, file by file and folder by folder', async () => {
    const { code, out } = await check(root, []);
    expect(out).toMatch(/lint:cycles: no import cycles in .*packages\/core\/src.*apps\/cli\/src/);
    expect(code).toBe(0);
  }, 120_000);
});
