import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Everything the suite writes (stores, CLI output, emulator logs) lives here. */
    runDir: string;
    /** The recognisable FAL_KEY every CLI run gets; the secrets scan looks for it. */
    falKey: string;
    /** Redis keys of this run start with this prefix (one sub-prefix per test). */
    redisPrefix: string;
    redisUrl: string;
    repoRoot: string;
  }
}

const repoRoot = resolve(import.meta.dirname, '../../..');

/** Creates the run folder and the key, checks the CLI is built, and cleans up at the end. */
export default function setup(project: TestProject): () => Promise<void> {
  const cli = join(repoRoot, 'apps/cli/dist/commands/submit.js');
  if (!existsSync(cli)) {
    throw new Error(
      'The CLI is not built: run `pnpm test:reliability` (it builds first) or `pnpm build`.',
    );
  }
  const runDir = mkdtempSync(join(tmpdir(), 'falai-reliability-'));
  const id = randomBytes(6).toString('hex');
  const falKey = `falai-secret-${id}:${randomBytes(16).toString('hex')}`;
  const redisPrefix = `falai-rel-${id}`;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  project.provide('runDir', runDir);
  project.provide('falKey', falKey);
  project.provide('redisPrefix', redisPrefix);
  project.provide('redisUrl', redisUrl);
  project.provide('repoRoot', repoRoot);
  return async () => {
    try {
      const { Redis } = await import('ioredis');
      const redis = new Redis(redisUrl, {
        lazyConnect: true,
        connectTimeout: 2000,
        maxRetriesPerRequest: 1,
      });
      await redis.connect();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
      redis.disconnect();
    } catch {
      // No Redis: nothing of ours is in it.
    }
    if (process.env.FALAI_KEEP_RELIABILITY_DIR !== '1')
      rmSync(runDir, { recursive: true, force: true });
  };
}
