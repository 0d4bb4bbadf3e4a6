#!/usr/bin/env node
// `pnpm lint:cli-deps [<cli dir>]`: the CLI's runtime dependencies match what its bundles leave
// to node_modules. The CLI ships bundles (apps/cli/scripts/bundle.mjs) with the workspace
// packages and oclif inlined; every other package they import is loaded from node_modules at
// run time, so it must be in package.json `dependencies` (or `optionalDependencies`), and a
// dependency nothing loads is dead weight for every user who installs falai.
//
// The packages the bundles leave external come from `bundle.mjs externals` (both builds in
// memory, from the sources, so no build is needed). A declared dependency is used when the
// bundles leave it external, when it is an oclif plugin of package.json `oclif.plugins`
// (oclif loads those by name), or when such a plugin depends on it (the CLI pins the version
// the plugin gets). Exits 1 naming each missing or unused dependency.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundleScript = join(root, 'apps', 'cli', 'scripts', 'bundle.mjs');

/** Runs `bundle.mjs externals` for the CLI in `cliDir`: package name → importing sources. */
export async function bundleExternals(cliDir) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [bundleScript, 'externals', cliDir],
    { cwd: cliDir, maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout);
}

/** The packages a plugin of `oclif.plugins` needs from node_modules: its dependencies. */
function pluginNeeds(cliDir, plugin) {
  // Node's lookup (package exports may hide package.json from require.resolve).
  for (let dir = cliDir; ; dir = dirname(dir)) {
    const file = join(dir, 'node_modules', plugin, 'package.json');
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, 'utf8'));
      return { installed: true, needs: Object.keys(manifest.dependencies ?? {}) };
    }
    if (dirname(dir) === dir) return { installed: false, needs: [] };
  }
}

/** Compares package.json with what the bundles load. */
export function compareDependencies(cliDir, manifest, externals) {
  const declared = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {}),
  ]);
  const problems = [];
  const used = new Set(Object.keys(externals));
  for (const plugin of manifest.oclif?.plugins ?? []) {
    const { installed, needs } = pluginNeeds(cliDir, plugin);
    if (!installed)
      problems.push(`✗ the oclif plugin ${plugin} is not installed: run pnpm install`);
    used.add(plugin);
    for (const need of needs) if (declared.has(need)) used.add(need);
  }
  for (const [name, importers] of Object.entries(externals)) {
    if (declared.has(name)) continue;
    const shown = importers.slice(0, 3).join(', ') + (importers.length > 3 ? ', …' : '');
    problems.push(
      `✗ ${name} is loaded at run time (${shown}) but package.json does not list it in dependencies: add it there (the bundles leave it to node_modules)`,
    );
  }
  for (const name of [...declared].sort()) {
    if (used.has(name)) continue;
    problems.push(
      `✗ ${name} is in dependencies but nothing the bundles leave out loads it: remove it, or move it to devDependencies if only a script or a test needs it`,
    );
  }
  for (const plugin of manifest.oclif?.plugins ?? []) {
    if (!declared.has(plugin)) {
      problems.push(
        `✗ the oclif plugin ${plugin} is not in dependencies: add it (oclif loads it from node_modules)`,
      );
    }
  }
  return { problems, runtime: [...used].sort() };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const cliDir = resolve(process.argv[2] ?? join(root, 'apps', 'cli'));
  const manifest = JSON.parse(readFileSync(join(cliDir, 'package.json'), 'utf8'));
  let externals;
  try {
    externals = await bundleExternals(cliDir);
  } catch (error) {
    console.error(`lint:cli-deps: bundling ${cliDir} failed:\n${error.stderr ?? error.message}`);
    process.exit(1);
  }
  const { problems, runtime } = compareDependencies(cliDir, manifest, externals);
  for (const problem of problems) console.error(problem);
  const where = relative(process.cwd(), cliDir) || '.';
  console.log(
    problems.length === 0
      ? `lint:cli-deps: ${where}: ${runtime.length} runtime packages, all in dependencies, none unused`
      : `lint:cli-deps: ${where}: ${problems.length} problem(s)`,
  );
  process.exit(problems.length === 0 ? 0 : 1);
}
