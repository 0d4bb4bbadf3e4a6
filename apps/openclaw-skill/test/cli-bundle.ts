import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The CLI's bundler (`pnpm --filter falai bundle` runs it with the `single` mode). */
const BUNDLER = fileURLToPath(new URL('../../cli/scripts/bundle.mjs', import.meta.url));

/**
 * Builds the single-file CLI from the current sources into `outDir` (a private folder, so this
 * never races the CLI package's own tests, which bundle into `apps/cli/dist-bundle`) and returns
 * the path of `falai.mjs`. The CLI is not a dependency of this package (it depends on us), so
 * turbo does not build it first; the bundler reads sources, so no build is needed.
 */
export function ensureCliBundle(outDir: string): string {
  // A developer may point the tests at another CLI build (e.g. a wrapper around bin/run.js).
  if (process.env.FALAI_TEST_CLI_BUNDLE) return process.env.FALAI_TEST_CLI_BUNDLE;
  if (!existsSync(BUNDLER)) throw new Error(`the CLI bundler ${BUNDLER} is missing`);
  const run = spawnSync(process.execPath, [BUNDLER, 'single', outDir], { encoding: 'utf8' });
  const bundle = join(outDir, 'falai.mjs');
  if (run.status !== 0 || !existsSync(bundle)) {
    throw new Error(`bundling the CLI failed (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
  }
  return bundle;
}
