import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cliEnv,
  keepEmulatorLog,
  redisAvailable,
  runCli,
  startFal,
  storeSpec,
  suite,
} from './helpers.js';

const ENDPOINT = 'fal-ai/nano-banana-pro';
const hasRedis = await redisAvailable();

/** Every file under a folder, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return files(full);
    return entry.isFile() ? [full] : [];
  });
}

/**
 * What must never be written anywhere: the whole key, its secret, and its id beyond the
 * 8-character prefix that masking may show.
 */
function needles(key: string): string[] {
  const [id = '', secret = ''] = key.split(':');
  return [key, secret, id.slice(6)];
}

/**
 * Runs last (files run in name order). With the suite's recognisable FAL_KEY in every run,
 * the commands most likely to echo a key run once more, then every byte the suite kept is
 * scanned: stores (file, SQLite with its WAL), every command's stdout and stderr (human and
 * --json, errors included), the emulator request logs, and the suite's Redis keys.
 */
describe('secrets', () => {
  it('the key appears in no store, log, --json output or error', async () => {
    const { falKey, runDir, redisPrefix, redisUrl } = suite();
    const emulator = await startFal();
    emulator.setModel(ENDPOINT, { queueMs: 0, runMs: 50, output: { images: [] } });
    const spec = storeSpec('file', 'secrets');
    const env = cliEnv({ FALAI_STORE: spec, FALAI_BASE_URL: emulator.url });
    try {
      const submitted = await runCli(['submit', ENDPOINT, '{"prompt":"secret scan"}', '--json'], {
        env,
      });
      expect(submitted.code, submitted.stderr).toBe(0);
      const id = JSON.parse(submitted.stdout).requestId as string;
      const runs = await Promise.all([
        runCli(['check-key', '--json'], { env }),
        runCli(['check-key'], { env }),
        runCli(['config', 'list', '--json'], { env }),
        runCli(['config', 'list'], { env }),
        runCli(['wait', id, '--json'], { env }),
        runCli(['status', id, '--json'], { env }),
        runCli(['list', '--all', '--json'], { env }),
        // Errors that involve the key or the connection.
        runCli(['submit', ENDPOINT, '{"prompt":"x"}', '--json'], {
          env: { ...env, FALAI_BASE_URL: 'http://127.0.0.1:1' },
        }),
        runCli(['submit', ENDPOINT, '{"prompt":"x"}'], {
          env: { ...env, FALAI_BASE_URL: 'http://127.0.0.1:1', FALAI_DEBUG: '1' },
        }),
      ]);
      expect(runs.some((r) => r.code === 0)).toBe(true);
    } finally {
      keepEmulatorLog(emulator, 'secrets');
      await emulator.close();
    }

    const leaks: string[] = [];
    const scanned = { files: 0, bytes: 0, redisKeys: 0 };
    const look = (where: string, data: Buffer) => {
      scanned.bytes += data.length;
      for (const needle of needles(falKey)) {
        if (data.includes(Buffer.from(needle)))
          leaks.push(`${where} contains ${needle.slice(0, 4)}…`);
      }
    };
    for (const file of files(runDir)) {
      // The 201 MiB sparse input of the bad-input corpus is ours, not something falai wrote.
      if (statSync(file).size > 64 * 1024 * 1024) continue;
      scanned.files++;
      look(file, readFileSync(file));
    }
    if (hasRedis) {
      const { Redis } = await import('ioredis');
      const redis = new Redis(redisUrl);
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 500);
          cursor = next;
          for (const key of keys) {
            scanned.redisKeys++;
            look(`redis ${key} (name)`, Buffer.from(key));
            const dumped = await redis.dumpBuffer(key);
            if (dumped) look(`redis ${key}`, dumped);
          }
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    }
    console.info(
      `secrets: scanned ${scanned.files} files, ${scanned.redisKeys} Redis keys, ${scanned.bytes} bytes`,
    );
    // The scan really covered the suite's work: stores, outputs and emulator logs.
    expect(scanned.files).toBeGreaterThan(100);
    expect(files(runDir).some((f) => f.includes('emulator-logs'))).toBe(true);
    if (hasRedis) expect(scanned.redisKeys).toBeGreaterThan(0);
    expect(leaks).toEqual([]);
  });
});
