import { type ChildProcess, spawn } from 'node:child_process';
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

/** How `runNode` starts and bounds a child process. */
export interface RunNodeOptions {
  /** The child's whole environment. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Written to the child's stdin, which is then closed; without it stdin is ignored. */
  readonly input?: string;
  /** Kills the child with SIGKILL after this long, so a hung child cannot hang the test. */
  readonly timeoutMs?: number;
  /** Called with everything printed so far each time stdout grows (e.g. to kill on a cue). */
  readonly onStdout?: (stdout: string, child: ChildProcess) => void;
}

/**
 * Runs `node <file> ...args` to the end and collects its output: the one spawn-and-collect
 * loop behind every multi-process test (store workers, crash writers, CLI runs).
 */
export function runNode(
  file: string,
  args: readonly string[],
  options: RunNodeOptions = {},
): Promise<WorkerRun> {
  return new Promise((resolve, reject) => {
    const withInput = options.input !== undefined;
    const child = spawn(process.execPath, [file, ...args], {
      env: options.env ?? process.env,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      stdio: [withInput ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      options.onStdout?.(stdout, child);
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    if (withInput) {
      // A child that exits without reading its stdin must not fail the run with EPIPE.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(options.input);
    }
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The complete lines of `stdout`: a line torn by a kill was never acknowledged. */
export function completeLines(stdout: string): string[] {
  return stdout
    .split('\n')
    .slice(0, -1)
    .filter((line) => line !== '');
}

/** Runs `node <file> ...args` with `env` added to this process's environment. */
export function runWorker(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<WorkerRun> {
  return runNode(file, args, { env: { ...process.env, ...env } });
}

/**
 * Starts `node <file> ...args`, waits until it has printed `killAfterLines` lines, waits
 * `delayMs` more, then kills it with SIGKILL: a crash at an arbitrary point of a write.
 * Returns the complete lines printed before it died.
 */
export async function runAndKill(
  file: string,
  args: readonly string[],
  killAfterLines: number,
  env: NodeJS.ProcessEnv = {},
  delayMs = 0,
): Promise<{ lines: string[]; stderr: string; signal: NodeJS.Signals | null }> {
  let killing = false;
  const run = await runNode(file, args, {
    env: { ...process.env, ...env },
    onStdout: (stdout, child) => {
      if (!killing && stdout.split('\n').length - 1 >= killAfterLines) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    },
  });
  return { lines: completeLines(run.stdout), stderr: run.stderr, signal: run.signal };
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
