import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Emulator, EmulatorOptions } from '@falai/emulator';
import * as v from 'valibot';
import { expect } from 'vitest';

export const CLI_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const RUN_JS = join(CLI_DIR, 'bin', 'run.js');

/** The secret half of every test key; asserted absent from every output of every run. */
export const SECRET = `test-secret-${randomBytes(8).toString('hex')}`;
export const FAL_KEY = `test-id:${SECRET}`;

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Parses stdout as JSON and checks it against a core output schema. */
  json<TSchema extends v.GenericSchema>(schema: TSchema): v.InferOutput<TSchema>;
}

export interface RunOptions {
  readonly env?: Record<string, string | undefined>;
  readonly stdin?: string;
  readonly cwd?: string;
  /** Called once the child is running (e.g. to send it a signal). */
  readonly onSpawn?: (child: import('node:child_process').ChildProcess) => void;
  readonly onStderr?: (chunk: string, child: import('node:child_process').ChildProcess) => void;
}

/** A temp HOME, a file store, and (optionally) an emulator: one per test file. */
export interface TestEnv {
  readonly dir: string;
  readonly emulator: Emulator | undefined;
  readonly baseEnv: Record<string, string>;
  run(args: readonly string[], options?: RunOptions): Promise<CliResult>;
  close(): Promise<void>;
}

export async function createTestEnv(
  options: { emulator?: EmulatorOptions | false } = {},
): Promise<TestEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'falai-cli-test-'));
  let emulator: Emulator | undefined;
  if (options.emulator !== false) {
    const { startEmulator } = await import('@falai/emulator');
    emulator = await startEmulator({
      port: 0,
      deterministic: true,
      // As at fal: an endpoint id without a model definition or setModel is a 404 at submit.
      strict: true,
      defaultLatency: { queueMs: 20, runMs: 80 },
      ...(options.emulator ?? {}),
    });
  }
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: join(dir, 'home'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_STATE_HOME: join(dir, 'state'),
    FAL_KEY,
    FALAI_STORE: `file:${join(dir, 'pending.json')}`,
    NO_COLOR: '1',
    // Without an emulator, every fal host is a closed loopback port: no test reaches the internet.
    FALAI_BASE_URL: emulator ? emulator.url : 'http://127.0.0.1:9',
  };
  return {
    dir,
    emulator,
    baseEnv,
    run: (args, runOptions = {}) =>
      runCli(args, { ...runOptions, cwd: runOptions.cwd ?? dir }, baseEnv),
    async close() {
      await emulator?.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Spawns the built CLI without a TTY and collects its output. */
export function runCli(
  args: readonly string[],
  options: RunOptions,
  baseEnv: Record<string, string>,
): Promise<CliResult> {
  const env: Record<string, string> = { ...baseEnv };
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [RUN_JS, ...args], {
      cwd: options.cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      options.onStderr?.(chunk, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      // No key material in any output, ever.
      expect(stdout).not.toContain(SECRET);
      expect(stderr).not.toContain(SECRET);
      resolvePromise({
        code,
        signal,
        stdout,
        stderr,
        json(schema) {
          let parsed: unknown;
          try {
            parsed = JSON.parse(stdout);
          } catch {
            throw new Error(`stdout is not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`);
          }
          const result = v.safeParse(schema, parsed);
          if (!result.success) {
            throw new Error(
              `stdout does not match the schema: ${JSON.stringify(v.flatten(result.issues))}\n${stdout}`,
            );
          }
          return result.output;
        },
      });
    });
    options.onSpawn?.(child);
    child.stdin.end(options.stdin ?? '');
  });
}

/**
 * The Redis the tests use (`REDIS_URL`, default 127.0.0.1:6379), or undefined after a visible
 * warning when none answers outside CI (the caller then skips); under `CI` a missing Redis
 * fails the test. `pnpm test` starts a throwaway Redis when none is configured.
 */
export async function redisForTest(what: string): Promise<string | undefined> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const { createConnection } = await import('node:net');
  const parsed = new URL(url);
  const up = await new Promise<boolean>((resolvePromise) => {
    const socket = createConnection(Number(parsed.port || 6379), parsed.hostname);
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolvePromise(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once('error', () => resolvePromise(false));
  });
  if (up) return url;
  if (process.env.CI) throw new Error(`Redis is not reachable at ${url} (needed under CI).`);
  console.warn(
    `\n  ⚠ SKIPPING ${what}: no Redis at ${url}. Run \`pnpm test\` (it starts one), or ` +
      'start redis-server, or set REDIS_URL.\n',
  );
  return undefined;
}
