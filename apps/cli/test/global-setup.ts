import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The end-to-end tests spawn the built CLI, which imports the built workspace packages:
 * build the CLI and everything it depends on once per run (turbo skips what is cached).
 * `FALAI_TEST_SKIP_BUILD=1` skips it when you just built.
 */
export default function setup(): void {
  if (process.env.FALAI_TEST_SKIP_BUILD === '1') return;
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
  execFileSync(
    'pnpm',
    ['exec', 'turbo', 'run', 'build', '--filter=falai...', '--output-logs=errors-only'],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
    },
  );
}
