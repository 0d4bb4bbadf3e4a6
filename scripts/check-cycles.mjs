#!/usr/bin/env node
// `pnpm lint:cycles [dir…]`: no import cycle between files, and none between folders, in the
// sources of any workspace package (/work/shared/architecture.md: "An import cycle between
// files or folders (lint checks it)"). Checked with dependency-cruiser.
//
// Without arguments it checks every package's `src/` (packages/*, apps/*, tests/*) and the
// @falai/models entry (models/). Type-only imports count: `import type` ties two folders
// together just as much (the registry ↔ media cycle of issue #13 ran through one). Exits 1
// naming every cycle, file by file or folder by folder.
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The rules: one for files, one for folders (dependency-cruiser's `scope: 'folder'`). */
export const CYCLE_RULES = {
  forbidden: [
    {
      name: 'no-file-cycle',
      comment:
        'Two modules import each other (perhaps through others): move the shared piece into a module both can import.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      comment:
        'Two folders import each other: a folder is a layer, so move the shared piece down into a folder below both.',
      scope: 'folder',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
};

/** Every workspace package's sources, relative to the repository root. */
export function defaultTargets() {
  const targets = [];
  for (const group of ['packages', 'apps', 'tests']) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      if (existsSync(join(dir, name, 'src'))) targets.push(`${group}/${name}/src`);
    }
  }
  targets.push('models');
  return targets;
}

/**
 * Cruises the folders (relative to `cwd`) and returns dependency-cruiser's `err` report and
 * whether it found no cycle.
 */
export async function checkCycles(targets, { cwd = root } = {}) {
  const previous = process.cwd();
  // dependency-cruiser resolves paths from the working directory.
  process.chdir(cwd);
  try {
    const result = await cruise(targets, {
      validate: true,
      ruleSet: CYCLE_RULES,
      tsPreCompilationDeps: true,
      doNotFollow: { path: 'node_modules' },
      exclude: { path: '(^|/)(dist|dist-bundle|node_modules)/' },
      outputType: 'err',
    });
    return { ok: result.exitCode === 0, report: String(result.output) };
  } finally {
    process.chdir(previous);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const cwd = args.length > 0 ? process.cwd() : root;
  const targets = args.length > 0 ? args : defaultTargets();
  const missing = targets.filter((target) => !existsSync(resolve(cwd, target)));
  if (missing.length > 0) {
    console.error(`lint:cycles: no such folder: ${missing.join(', ')}`);
    process.exit(1);
  }
  const { ok, report } = await checkCycles(targets, { cwd });
  if (!ok) console.error(report.trimEnd());
  const where = targets.map((target) => relative(cwd, resolve(cwd, target)) || '.').join(', ');
  console.log(`lint:cycles: ${ok ? 'no import cycles' : 'import cycles found'} in ${where}`);
  process.exit(ok ? 0 : 1);
}
