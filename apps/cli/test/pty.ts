import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { RUN_JS } from './helpers.js';

/**
 * `script` (util-linux) runs a command on a pseudo-terminal. Without it the terminal tests
 * skip with a warning, except under CI, where its absence fails the file (like the Redis
 * tests): nothing else covers what falai does on a terminal.
 */
export const hasScript = spawnSync('script', ['--version']).status === 0;

/** Call at the top of a terminal test file: warns, or throws under CI, when `script` is missing. */
export function requireScript(file: string): void {
  if (hasScript) return;
  if (process.env.CI) {
    throw new Error(
      `${file}: \`script\` (util-linux) is not installed and CI is set: the terminal tests must run in CI. Install util-linux.`,
    );
  }
  console.warn(
    `\n  ⚠ SKIPPING ${file}: \`script\` (util-linux) is not installed.\n` +
      '    Install util-linux to run the terminal tests; under CI their absence is an error.\n',
  );
}

export interface Tty {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number | null>;
  output(): string;
  waitFor(pattern: RegExp): Promise<void>;
}

/**
 * Runs the built CLI on a pseudo-terminal of `columns` columns (`stty cols`); `script -e`
 * exits with the command's status. Everything the terminal shows comes back in `output()`.
 */
export function onTty(
  args: readonly string[],
  options: { env: Record<string, string>; cwd: string; columns?: number },
): Tty {
  const quote = (part: string) => `'${part.replaceAll("'", "'\\''")}'`;
  const command = [process.execPath, RUN_JS, ...args].map(quote).join(' ');
  const sized =
    options.columns === undefined ? command : `stty cols ${options.columns}; exec ${command}`;
  const child = spawn('script', ['-qfec', sized, '/dev/null'], {
    cwd: options.cwd,
    env: { ...options.env, TERM: 'xterm' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(output)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  );
  return {
    child,
    exited,
    output: () => output,
    waitFor: (pattern) =>
      new Promise<void>((resolve) => {
        if (pattern.test(output)) resolve();
        else waiters.push({ pattern, resolve });
      }),
  };
}
