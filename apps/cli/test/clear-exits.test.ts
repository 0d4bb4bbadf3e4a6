import { execFileSync } from 'node:child_process';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorOutputSchema, ListOutputSchema } from '@falai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from './helpers.js';

/**
 * Clear exits: a disk that cannot take the outputs is OUTPUT_WRITE_FAILED (exit 8) naming
 * the path and saying `falai download <id>` resumes, not INTERNAL/exit 1; ages without a unit
 * are usage errors, never seconds.
 */
let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  await env.close();
});

/**
 * A folder the outputs cannot be written to, by a real kernel error: as root, a tiny tmpfs
 * filled to the last page (ENOSPC); otherwise a read-only folder (EACCES).
 */
async function unwritableFolder(): Promise<{
  out: string;
  errno: string;
  free(): Promise<void>;
  close(): Promise<void>;
}> {
  const mount = join(env.dir, 'tiny-disk');
  const out = join(mount, 'out');
  await mkdir(mount, { recursive: true });
  let mounted = false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount], { stdio: 'pipe' });
    mounted = true;
  } catch {}
  await mkdir(out, { recursive: true });
  if (mounted) {
    const filler = join(mount, 'filler');
    await writeFile(filler, Buffer.alloc(1024 * 1024)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOSPC') throw error;
    });
    return {
      out,
      errno: 'ENOSPC',
      free: () => rm(filler, { force: true }),
      close: async () => {
        execFileSync('umount', [mount], { stdio: 'pipe' });
      },
    };
  }
  await chmod(out, 0o555);
  return {
    out,
    errno: 'EACCES',
    free: () => chmod(out, 0o755),
    close: () => chmod(out, 0o755),
  };
}

describe('outputs that cannot be written', () => {
  it('run: OUTPUT_WRITE_FAILED (exit 8) names the path and the resume command; download resumes', async () => {
    const disk = await unwritableFolder();
    try {
      const human = await env.run([
        'run',
        'fal-ai/nano-banana-pro',
        '{"prompt":"no room"}',
        '--out',
        disk.out,
      ]);
      expect(human.code).toBe(8);
      expect(human.stderr).toMatch(/^Error: Could not save the outputs of /m);
      expect(human.stderr).toContain(disk.out);
      expect(human.stderr).toContain(`(${disk.errno})`);
      expect(human.stderr).not.toContain('Unexpected error');

      const json = await env.run([
        'run',
        'fal-ai/nano-banana-pro',
        '{"prompt":"no room"}',
        '--out',
        disk.out,
        '--json',
      ]);
      expect(json.code).toBe(8);
      const { error } = json.json(ErrorOutputSchema);
      expect(error.code).toBe('OUTPUT_WRITE_FAILED');
      const details = error.details as { requestId: string; path: string; errno: string };
      expect(details.errno).toBe(disk.errno);
      expect(details.path.startsWith(disk.out)).toBe(true);
      expect(error.message).toContain(`falai download ${details.requestId}`);

      // The request completed and was recorded: once there is room, download finishes it.
      await disk.free();
      const resumed = await env.run(['download', details.requestId, '--out', disk.out]);
      expect(resumed.code).toBe(0);
      expect(resumed.stdout).toContain(join(disk.out, details.requestId));
    } finally {
      await disk.close();
    }
  });
});

describe('prune ages need a unit', () => {
  it('--older-than 7 and --stuck 2 are usage errors that change nothing; 7d works', async () => {
    const store = `file:${join(env.dir, 'prune.json')}`;
    const submitted = await env.run(['submit', 'fal-ai/nano-banana-pro', '{"prompt":"keep"}'], {
      env: { FALAI_STORE: store },
    });
    expect(submitted.code).toBe(0);
    const waited = await env.run(['wait', submitted.stdout.trim()], {
      env: { FALAI_STORE: store },
    });
    expect(waited.code).toBe(0);
    await env.run(['submit', 'fal-ai/nano-banana-pro', '{"prompt":"pending"}'], {
      env: { FALAI_STORE: store },
    });

    for (const args of [
      ['--older-than', '7'],
      ['--stuck', '2'],
      ['--stuck', '0.5', '--older-than', '1d'],
    ]) {
      const human = await env.run(['prune', ...args], {
        env: { FALAI_STORE: store },
      });
      expect(human.code, `prune ${args.join(' ')}`).toBe(2);
      expect(human.stderr).toMatch(/has no unit; say what it means, e\.g\. \S+d \(days\)/);
      const json = await env.run(['prune', ...args, '--json'], {
        env: { FALAI_STORE: store },
      });
      expect(json.code).toBe(2);
      expect(json.json(ErrorOutputSchema).error.code).toBe('USAGE');
    }
    const list = await env.run(['list', '--all', '--json'], { env: { FALAI_STORE: store } });
    expect(list.json(ListOutputSchema).count).toBe(2);

    const pruned = await env.run(['prune', '--older-than', '7d'], {
      env: { FALAI_STORE: store },
    });
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toContain('0 requests removed.');
  });
});
