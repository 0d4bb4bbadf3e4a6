import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { checkModelDirectory } from '../../src/models/index.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const script = join(root, 'scripts', 'check-models.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'falai-check-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function check(dir: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, dir], { cwd: root });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

describe('pnpm models:check', () => {
  it('passes on the repository models', async () => {
    const result = await checkModelDirectory(join(root, 'models'));
    expect(result.problems).toEqual([]);
    expect(result.files).toBe(5);
    const { code, out } = await check(join(root, 'models'));
    expect(code).toBe(0);
    expect(out).toMatch(/5 file\(s\) in models: ok/);
  });

  it('fails on a broken model, naming the file and the field', async () => {
    const dir = join(tmp, 'broken');
    cpSync(join(root, 'models'), dir, { recursive: true });
    const file = join(dir, 'fal-ai', 'flux', 'dev', 'image-to-image.json');
    const def = JSON.parse(readFileSync(file, 'utf8'));
    def.input.strength.type = 'float';
    def.output.kind = 'picture';
    writeFileSync(file, JSON.stringify(def));
    const { code, out } = await check(dir);
    expect(code).toBe(1);
    expect(out).toContain(
      `✗ ${file}: input.strength.type: must be one of string, integer, number, boolean, file, array, object`,
    );
    expect(out).toContain(`✗ ${file}: output.kind: must be one of images, video, other`);
    expect(out).toMatch(/5 file\(s\) in .*broken: 2 problem\(s\)/);
  });

  it('fails when an example does not validate or the id does not match the path', async () => {
    const dir = join(tmp, 'example');
    cpSync(join(root, 'models'), dir, { recursive: true });
    const file = join(dir, 'fal-ai', 'nano-banana-pro.json');
    const def = JSON.parse(readFileSync(file, 'utf8'));
    def.example = { aspect_ratio: '7:3' };
    writeFileSync(file, JSON.stringify(def));
    const moved = join(dir, 'fal-ai', 'nano-banana-pro', 'edit.json');
    const edit = JSON.parse(readFileSync(moved, 'utf8'));
    edit.endpointId = 'fal-ai/nano-banana-pro/remix';
    writeFileSync(moved, JSON.stringify(edit));
    const { code, out } = await check(dir);
    expect(code).toBe(1);
    expect(out).toContain(
      `✗ ${file}: example.prompt: the example input is invalid: Missing required field: prompt`,
    );
    expect(out).toContain(
      `✗ ${file}: example.aspect_ratio: the example input is invalid: aspect_ratio must be one of`,
    );
    expect(out).toContain(
      `✗ ${moved}: endpointId: "fal-ai/nano-banana-pro/remix" does not match the file path; expected "fal-ai/nano-banana-pro/edit"`,
    );
  });

  it('fails on an example with a misspelt field and on a key that reaches object internals', async () => {
    const dir = join(tmp, 'hostile');
    cpSync(join(root, 'models'), dir, { recursive: true });
    const file = join(dir, 'fal-ai', 'nano-banana-pro.json');
    const def = JSON.parse(readFileSync(file, 'utf8'));
    def.example = { prompt: 'x', numimages: 2 };
    writeFileSync(file, JSON.stringify(def));
    const flux = join(dir, 'fal-ai', 'flux', 'dev', 'image-to-image.json');
    writeFileSync(
      flux,
      readFileSync(flux, 'utf8').replace(
        '"input": {',
        '"input": {\n"__proto__": {"type": "string"},',
      ),
    );
    const { code, out } = await check(dir);
    expect(code).toBe(1);
    expect(out).toContain(
      `✗ ${file}: example.numimages: the example input is invalid: Unknown field: numimages (the model does not declare it)`,
    );
    expect(out).toContain(
      `✗ ${flux}: input.__proto__: "__proto__" is not allowed as a key in a model file`,
    );
  });

  it('fails on an empty or missing directory', async () => {
    expect((await check(join(tmp, 'nothing-here'))).code).toBe(1);
  });
});
