import { spawn } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_DIR, createTestEnv, RUN_JS, SECRET, type TestEnv } from './helpers.js';

/**
 * The root README's batch from a CSV, its shell lines run verbatim (each by `sh -c`, in a
 * fresh folder, `falai` on PATH being this checkout's built CLI) against the emulator: the
 * plan prices the batch, the run saves each row's image under its name and writes the
 * manifest.
 */
let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv({ emulator: { defaultLatency: { queueMs: 5, runMs: 20 } } });
});
afterAll(async () => {
  await env.close();
});

/** The shell block of the README's "## Batch" section. */
async function readmeBatchLines(): Promise<string[]> {
  const readme = await readFile(join(CLI_DIR, '..', '..', 'README.md'), 'utf8');
  const section = /^## Batch\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  const block = section && /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README.md has no ```sh block under "## Batch"');
  return block.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
}

function sh(
  line: string,
  cwd: string,
  vars: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', line], { cwd, env: vars, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the README batch', () => {
  it('runs as written, in three lines, offline against the emulator', async () => {
    const lines = await readmeBatchLines();
    expect(lines).toHaveLength(3);
    const bin = join(env.dir, 'bin');
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'falai'), `#!/bin/sh\nexec "${process.execPath}" "${RUN_JS}" "$@"\n`);
    await chmod(join(bin, 'falai'), 0o755);
    const cwd = join(env.dir, 'readme-batch');
    await mkdir(cwd, { recursive: true });
    const vars = { ...env.baseEnv, PATH: `${bin}:${env.baseEnv.PATH}` };
    const before = env.emulator?.log.filter((entry) => entry.kind === 'submit').length ?? 0;

    const outputs: string[] = [];
    for (const line of lines) {
      const result = await sh(line, cwd, vars);
      expect(result.code, `${line}\n${result.stderr}`).toBe(0);
      expect(result.stdout + result.stderr).not.toContain(SECRET);
      outputs.push(result.stdout);
    }
    // The plan: both rows valid, priced at the emulator's $0.15 an image.
    expect(outputs[1]).toMatch(/2 rows, 0 issues, cost \$0\.30/);
    // The run: one image per row under its id, and the manifest.
    const saved = (await readdir(join(cwd, 'shots'))).sort();
    expect(saved).toEqual(['fox-0.png', 'manifest.jsonl', 'owl-0.png']);
    for (const name of ['fox-0.png', 'owl-0.png']) {
      const bytes = await readFile(join(cwd, 'shots', name));
      expect(bytes.subarray(0, 4).toString('latin1')).toBe('\x89PNG');
    }
    const manifest = (await readFile(join(cwd, 'shots', 'manifest.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; status: string; costUsd: number });
    expect(manifest.map((entry) => [entry.id, entry.status, entry.costUsd]).sort()).toEqual([
      ['fox', 'completed', 0.15],
      ['owl', 'completed', 0.15],
    ]);
    const submitted = env.emulator?.log.filter((entry) => entry.kind === 'submit') ?? [];
    expect(submitted.length - before).toBe(2);
  });
});
