#!/usr/bin/env node
// `pnpm models:check [dir…]`: checks every model file against the meta-schema in
// packages/core/src/models/definition.ts, that each endpointId matches its path, and that
// each example input validates. Exits 1 naming the file and field of every problem.
// Core is loaded from TypeScript source through Vite's module runner, so no build is needed.
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dirs = process.argv.slice(2).map((d) => resolve(d));
if (dirs.length === 0) dirs.push(resolve(root, 'models'));

async function loadCore() {
  const { runnerImport } = await import('vite');
  const { module } = await runnerImport(resolve(root, 'packages/core/src/models/check.ts'), {
    configFile: false,
    logLevel: 'error',
    resolve: { conditions: ['falai-source'] },
  });
  return module;
}

let failed = false;
const { checkModelDirectory } = await loadCore();
for (const dir of dirs) {
  if (!existsSync(dir)) {
    console.error(`models:check: ${dir} does not exist`);
    failed = true;
    continue;
  }
  const result = await checkModelDirectory(dir);
  const shown = (file) => {
    const rel = relative(process.cwd(), file);
    return rel && !rel.startsWith('..') ? rel : file;
  };
  for (const p of result.problems) console.error(`✗ ${shown(p.file)}: ${p.field}: ${p.message}`);
  if (result.problems.length > 0) failed = true;
  if (result.files === 0) {
    console.error(`models:check: no model files in ${shown(dir)}`);
    failed = true;
  }
  const status = result.problems.length === 0 ? 'ok' : `${result.problems.length} problem(s)`;
  console.log(`models:check: ${result.files} file(s) in ${shown(dir)}: ${status}`);
}
process.exit(failed ? 1 : 0);
