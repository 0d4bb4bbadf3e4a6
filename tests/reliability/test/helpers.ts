import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PendingStore } from '@falai/core';
import { type Emulator, type EmulatorOptions, startEmulator } from '@falai/emulator';
import { runNode } from '@falai/store-conformance';
import { inject } from 'vitest';

/** Values the global setup provides: run folder, key, Redis prefix, repo root. */
export function suite() {
  return {
    runDir: inject('runDir'),
    falKey: inject('falKey'),
    redisPrefix: inject('redisPrefix'),
    redisUrl: inject('redisUrl'),
    repoRoot: inject('repoRoot'),
  };
}

/** The built CLI entry point. */
export function cliBin(): string {
  return join(suite().repoRoot, 'apps/cli/bin/run.js');
}

/** A fresh folder inside the run folder (kept until the secrets scan has read it). */
export function workDir(name: string): string {
  const dir = join(suite().runDir, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * The environment of every CLI run: the suite's key, HOME and XDG folders inside the run
 * folder (so no real config or store is touched), nothing inherited that points at fal.
 */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const { runDir, falKey } = suite();
  const home = join(runDir, 'home');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
    XDG_CACHE_HOME: join(home, '.cache'),
    TMPDIR: process.env.TMPDIR,
    FAL_KEY: falKey,
    NO_COLOR: '1',
  };
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** What one CLI run printed and how it ended. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let seq = 0;

/** Keeps a copy of what a command printed, for the secrets scan. */
function keep(label: string, stdout: string, stderr: string): void {
  const dir = workDir('outputs');
  const name = `${String(++seq).padStart(5, '0')}-${process.pid}-${label.replace(/[^\w.-]+/g, '_').slice(0, 60)}`;
  writeFileSync(join(dir, `${name}.out`), stdout);
  writeFileSync(join(dir, `${name}.err`), stderr);
}

/** Runs `node apps/cli/bin/run.js <args>`; kills it after `timeoutMs`. */
export async function runCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<CliRun> {
  const run = await runNode(cliBin(), args, {
    env: options.env ?? cliEnv(),
    cwd: options.cwd ?? suite().runDir,
    input: options.input ?? '',
    timeoutMs: options.timeoutMs ?? 60_000,
  });
  keep(args[0] ?? 'cli', run.stdout, run.stderr);
  return { code: run.code ?? (run.signal ? 128 : 1), stdout: run.stdout, stderr: run.stderr };
}

/**
 * Runs many `falai` commands in one worker process (see fixtures/cli-worker.mjs) and
 * resolves with each command's exit code and stdout.
 */
export async function runCliBatch(
  argvs: readonly (readonly string[])[],
  env: NodeJS.ProcessEnv,
  label: string,
  timeoutMs = 180_000,
): Promise<{ runs: { code: number; stdout: string }[]; stderr: string; code: number }> {
  const file = join(workDir('batches'), `${label}-${++seq}.json`);
  writeFileSync(file, JSON.stringify(argvs));
  const worker = join(import.meta.dirname, 'fixtures', 'cli-worker.mjs');
  const { stdout, stderr, code } = await runNode(worker, [cliBin(), file], {
    env,
    cwd: suite().runDir,
    timeoutMs,
  });
  keep(`batch-${label}`, stdout, stderr);
  const runs: { code: number; stdout: string }[] = [];
  const marker = /\n@@falai-run (\d+) (-?\d+)\n/g;
  let last = 0;
  for (let m = marker.exec(stdout); m; m = marker.exec(stdout)) {
    runs[Number(m[1])] = { code: Number(m[2]), stdout: stdout.slice(last, m.index) };
    last = m.index + m[0].length;
  }
  return { runs, stderr, code: code ?? 1 };
}

/**
 * The suite's fal: the emulator with fal's own defaults (two requests running per key, cancel
 * only asks, results kept an hour) in strict mode, so an endpoint id without a model
 * definition or `setModel` is a 404 at submit as at fal. A test that changes one of fal's
 * figures (e.g. `concurrency`) says why where it does.
 */
export function startFal(options: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({ port: 0, strict: true, ...options });
}

/** Writes the emulator's request log to the run folder, for the secrets scan. */
export function keepEmulatorLog(emulator: Emulator, name: string): void {
  writeFileSync(join(workDir('emulator-logs'), `${name}.json`), JSON.stringify(emulator.log));
}

/** Whether Redis answers at the suite's URL (under CI a missing Redis is a failure). */
export async function redisAvailable(): Promise<boolean> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(suite().redisUrl, {
    lazyConnect: true,
    connectTimeout: 1500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch {
    if (process.env.CI)
      throw new Error(`Redis is not reachable at ${suite().redisUrl} (needed under CI).`);
    console.warn(
      `\n  ⚠ SKIPPING the Redis tests of this file: no Redis at ${suite().redisUrl}. ` +
        '`pnpm test:reliability` starts one; or start redis-server, or set REDIS_URL.\n',
    );
    return false;
  } finally {
    redis.disconnect();
  }
}

/** The three stores of the suite: their FALAI_STORE value and how to open them here. */
export type StoreKind = 'file' | 'sqlite' | 'redis';

/** The FALAI_STORE value for a store of `kind` named `name` inside this run. */
export function storeSpec(kind: StoreKind, name: string): string {
  const { redisUrl, redisPrefix } = suite();
  if (kind === 'redis') return `${redisUrl.replace(/\/$/, '')}?prefix=${redisPrefix}-${name}`;
  const dir = workDir('stores');
  return kind === 'file'
    ? `file:${join(dir, `${name}.json`)}`
    : `sqlite:${join(dir, `${name}.db`)}`;
}

/** Opens a store the way the CLI does, from its FALAI_STORE value. */
export async function openSpec(spec: string): Promise<PendingStore> {
  const { parseStoreSpec } = await import('@falai/core');
  const parsed = parseStoreSpec(spec);
  if (parsed.kind === 'file') {
    const { createFileStore } = await import('@falai/store-file');
    return createFileStore({ path: parsed.path });
  }
  if (parsed.kind === 'sqlite') {
    const { createSqliteStore } = await import('@falai/store-sqlite');
    return createSqliteStore({ path: parsed.path });
  }
  if (parsed.kind === 'redis') {
    const { createRedisStore } = await import('@falai/store-redis');
    return createRedisStore({
      url: parsed.url,
      ...(parsed.prefix ? { prefix: parsed.prefix } : {}),
    });
  }
  throw new Error(`unsupported store ${spec}`);
}

/** A small seeded PRNG (mulberry32) so failures can be replayed from the printed seed. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
