import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * Finds the single-file CLI build the skill ships. In order: the `--cli-bundle` flag; the
 * bundle next to the running skill wrapper (`scripts/falai.mjs` → `scripts/falai-cli.mjs`,
 * so an installed skill can reinstall itself); the running script itself when it is the
 * bundle; `<package root>/dist-bundle/falai.mjs`, which the CLI's `build` writes and its packed
 * tarball ships (`files`), so the skill commands work from an npm-installed falai as well as
 * from the repo. Undefined lets the builder use its default.
 */
export function findCliBundle(options: {
  readonly flag?: string | undefined;
  /** The CLI package's root folder (oclif `config.root`). */
  readonly packageRoot: string;
  /** The running script, `process.argv[1]`. */
  readonly scriptPath?: string | undefined;
}): string | undefined {
  if (options.flag) return resolve(options.flag);
  const candidates: string[] = [];
  const script = options.scriptPath ? resolve(options.scriptPath) : undefined;
  if (script && basename(script) === 'falai.mjs' && basename(dirname(script)) === 'scripts')
    candidates.push(join(dirname(script), 'falai-cli.mjs'));
  if (script && basename(script) === 'falai-cli.mjs') candidates.push(script);
  if (script && basename(script) === 'falai.mjs' && basename(dirname(script)) === 'dist-bundle')
    candidates.push(script);
  candidates.push(join(options.packageRoot, 'dist-bundle', 'falai.mjs'));
  return candidates.find((candidate) => existsSync(candidate));
}
