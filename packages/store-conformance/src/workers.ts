import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A worker bundled to plain JavaScript, runnable with `node` in a child process. */
export interface BundledWorker {
  /** Absolute path of the `.mjs` file. */
  readonly file: string;
  /** Deletes the bundle. */
  dispose(): Promise<void>;
}

/**
 * Bundles a TypeScript worker script (and the workspace packages it imports, from source)
 * into one ESM file beside `entry`, so tests can run it in real child processes without a
 * build. The package's own dependencies stay external and load from its node_modules.
 */
export async function bundleWorker(entry: string): Promise<BundledWorker> {
  const { build } = await import('esbuild');
  const packageDir = await findPackageDir(dirname(entry));
  const pkg = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const external = Object.keys(pkg.dependencies ?? {}).filter(
    (name) => !name.startsWith('@falai/'),
  );
  const outDir = await mkdtemp(join(dirname(entry), '.worker-'));
  const file = join(outDir, 'worker.mjs');
  await build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['falai-source'],
    external: [...external, ...external.map((name) => `${name}/*`)],
    logLevel: 'error',
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  return { file, dispose: () => rm(outDir, { recursive: true, force: true }) };
}

async function findPackageDir(start: string): Promise<string> {
  let dir = start;
  for (;;) {
    try {
      await readFile(join(dir, 'package.json'));
      return dir;
    } catch {
      const parent = dirname(dir);
      if (parent === dir) throw new Error(`No package.json above ${start}`);
      dir = parent;
    }
  }
}

/** What one child process did. */
export interface WorkerRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node <file> ...args` and collects its output. */
export function runWorker(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<WorkerRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/**
 * Starts `node <file> ...args`, waits until it has printed `killAfterLines` lines, waits
 * `delayMs` more, then kills it with SIGKILL: a crash at an arbitrary point of a write.
 * Returns the complete lines printed before it died.
 */
export function runAndKill(
  file: string,
  args: readonly string[],
  killAfterLines: number,
  env: NodeJS.ProcessEnv = {},
  delayMs = 0,
): Promise<{ lines: string[]; stderr: string; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (!killed && stdout.split('\n').length - 1 >= killAfterLines) {
        killed = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      // Only complete lines were acknowledged; a torn last line is not.
      const lines = stdout.split('\n');
      lines.pop();
      resolve({ lines: lines.filter((line) => line !== ''), stderr, signal });
    });
  });
}

/**
 * Runs `processes` copies of a worker at once, each told its index and how many records to
 * write, and returns their runs. Used for the "8 processes × 50 records" test of every store.
 */
export async function runConcurrentWorkers(
  file: string,
  options: {
    readonly processes: number;
    readonly perProcess: number;
    readonly args?: readonly string[];
    readonly env?: NodeJS.ProcessEnv;
  },
): Promise<WorkerRun[]> {
  return Promise.all(
    Array.from({ length: options.processes }, (_, index) =>
      runWorker(
        file,
        [...(options.args ?? []), String(index), String(options.perProcess)],
        options.env,
      ),
    ),
  );
}

/** A temp directory for one test file, removed by the returned function. */
export async function tempDir(label: string): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `falai-${label}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
