#!/usr/bin/env node
// Bundles the CLI with esbuild.
//
//   node scripts/bundle.mjs dist    → dist/: one file per command, `main.js` (what bin/run.js
//                                     starts) and shared chunks, with the @falai/* workspace
//                                     packages AND @oclif/core (with its own dependencies)
//                                     inlined; every other third-party package is left to
//                                     node_modules (see package.json dependencies). This is
//                                     the `build`: Node resolves and compiles a handful of
//                                     files at start-up instead of ~600 (oclif alone is ~470
//                                     CommonJS files), which is most of falai's start-up time.
//                                     Lazy `await import()`s stay separate chunks, loaded only
//                                     when used. Also copies the emulator's asset into dist/
//                                     and writes dist/chunks.json (which sources each output
//                                     file holds; the start-up test reads it).
//   node scripts/bundle.mjs pack    → the same without source maps. Run by `prepack`, so
//                                     `pnpm --filter falai pack` makes a tarball that
//                                     installs with plain npm.
//   node scripts/bundle.mjs single  → dist-bundle/falai.mjs: one file with everything pure-JS
//                                     inlined (for the OpenClaw skill). Native modules
//                                     (better-sqlite3, sharp) stay external and are loaded
//                                     lazily, so only the features needing them fail, with a
//                                     clear message, when they are missing.
//   node scripts/bundle.mjs single <dir> → the same into <dir> (tests that run in parallel
//                                     with this package's own tests use a private folder).
//
// The built-in model definitions (@falai/models) are embedded in every build (see
// embedModels), so no build needs a models folder beside it. Data files of the workspace
// packages are imported as JSON (the emulator's catalogue and prices), so esbuild inlines them.
//
// `dist` and `pack` need oclif.manifest.json next (scripts/manifest.mjs; `build` and
// `prepack` run it).
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBuiltInModels, modelsDir } from '@falai/models';
import { build } from 'esbuild';

const cliDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = join(cliDir, '..', '..');
const mode = process.argv[2];

/**
 * Commands that only make sense inside the monorepo (they read repo files). The `skill`
 * commands are not among them: they get the models from the registry and ship the bundle
 * they run from (see @falai/openclaw-skill `findCliBundle`).
 */
const REPO_ONLY = [];

async function commandEntries() {
  const root = join(cliDir, 'src', 'commands');
  const out = [];
  const walk = async (dir) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        const id = relative(root, path).replace(/\.ts$/, '');
        if (!REPO_ONLY.some((re) => re.test(id))) out.push({ id, path });
      }
    }
  };
  await walk(root);
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** Leaves every non-workspace package to node_modules, except those `keep` inlines. */
const externals = (keep) => ({
  name: 'externals',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@falai/')) return undefined;
      if (keep(args.path, args.importer)) return undefined;
      return { path: args.path, external: true };
    });
  },
});

/**
 * Embeds the built-in model definitions: `@falai/models` reads its JSON files from its own
 * folder, which a bundle does not have, so the bundle gets the same module with the files'
 * contents inside (`modelsDir` and each file are then named by the package path). Its reader
 * of other folders (users' model folders) is the package's own.
 */
const embedModels = () => ({
  name: 'embed-models',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^@falai\/models$/ }, () => ({
      path: '@falai/models',
      namespace: 'falai-models',
    }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'falai-models' }, () => {
      const files = loadBuiltInModels();
      const broken = files.filter((file) => file.error !== undefined);
      if (broken.length > 0) {
        throw new Error(broken.map((file) => `${file.file}: ${file.error}`).join('\n'));
      }
      const embedded = files.map((file) => [file.endpointId, JSON.stringify(file.definition)]);
      return {
        resolveDir: modelsDir,
        loader: 'js',
        contents: [
          "import { parseModelFile } from './read.js';",
          "export { readModelFiles } from './read.js';",
          "export const modelsDir = '@falai/models';",
          `const FILES = ${JSON.stringify(embedded)};`,
          'export function loadBuiltInModels() {',
          '  return FILES.map(([id, text]) => parseModelFile(`@falai/models/${id}.json`, id, text));',
          '}',
        ].join('\n'),
      };
    });
  },
});

/**
 * Inlines @oclif/core and, transitively, everything it imports, except what falai never
 * runs: oclif's TypeScript support (ts-node, typescript; development mode only) and
 * `semver`, which oclif only loads for its Node-version check, skipped by bin/run.js
 * (and wrapped in a try/catch by oclif, so a missing semver just means no warning).
 */
const keepOclif = (name, importer) =>
  !isBuiltin(name) &&
  !/^(typescript|ts-node|semver)(\/|$)/.test(name) &&
  (name === '@oclif/core' || name.startsWith('@oclif/core/') || importer.includes('node_modules'));

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['source'],
  logLevel: 'warning',
  legalComments: 'none',
  // CommonJS dependencies inlined into ESM need a real `require`.
  banner: {
    js: "import { createRequire as __falaiCreateRequire } from 'node:module'; const require = __falaiCreateRequire(import.meta.url);",
  },
};

async function distBuild({ forPack }) {
  const dist = join(cliDir, 'dist');
  await rm(dist, { recursive: true, force: true });
  const entries = await commandEntries();
  const result = await build({
    ...common,
    absWorkingDir: cliDir,
    entryPoints: [
      ...entries.map(({ id, path }) => ({ in: path, out: `commands/${id}` })),
      { in: join(cliDir, 'src', 'main.ts'), out: 'main' },
      { in: join(cliDir, 'src', 'help.ts'), out: 'help' },
      { in: join(cliDir, 'src', 'hooks', 'suggest-command.ts'), out: 'hooks/suggest-command' },
    ],
    outdir: dist,
    splitting: true,
    // Less to read and parse at every start; names stay readable in stack traces.
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: !forPack,
    metafile: true,
    // Chunks sit two levels below the package root, like the command files, so code that
    // finds files relative to itself (core's models/, the emulator's assets) resolves alike.
    chunkNames: 'chunks/[name]-[hash]',
    plugins: [embedModels(), externals(keepOclif)],
  });
  const chunks = {};
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    if (file.endsWith('.map')) continue;
    chunks[relative(dist, join(cliDir, file))] = Object.keys(output.inputs).map((input) =>
      input.replace(/^(\.\.\/)+/, ''),
    );
  }
  await writeFile(join(dist, 'chunks.json'), `${JSON.stringify(chunks)}\n`);
  await mkdir(join(dist, 'assets'), { recursive: true });
  await cp(join(repoDir, 'packages', 'emulator', 'assets'), join(dist, 'assets'), {
    recursive: true,
  });
  console.log(`bundled ${entries.length} commands into ${relative(process.cwd(), dist) || '.'}`);
}

async function singleBuild() {
  const outDir = process.argv[3] ? resolve(process.argv[3]) : join(cliDir, 'dist-bundle');
  await rm(outDir, { recursive: true, force: true });
  const entries = await commandEntries();
  const pkg = JSON.parse(await readFile(join(cliDir, 'package.json'), 'utf8'));
  const entrySource = [
    "import { basename, dirname } from 'node:path';",
    "import { fileURLToPath } from 'node:url';",
    "import { execute } from '@oclif/core';",
    ...entries.map(({ path }, i) => `import C${i} from ${JSON.stringify(path)};`),
    `export const COMMANDS = { ${entries.map(({ id }, i) => `${JSON.stringify(id.replaceAll('/', ':'))}: C${i}`).join(', ')} };`,
    `const pjson = ${JSON.stringify({
      name: pkg.name,
      version: pkg.version,
      description: pkg.description,
      type: 'module',
      oclif: {
        bin: 'falai',
        dirname: 'falai',
        topicSeparator: ' ',
        topics: pkg.oclif.topics,
        additionalVersionFlags: pkg.oclif.additionalVersionFlags,
        commands: { strategy: 'explicit', target: './falai.mjs', identifier: 'COMMANDS' },
      },
    })};`,
    // The file may be renamed (the OpenClaw skill ships it as scripts/falai-cli.mjs next to its
    // own scripts/falai.mjs wrapper), so oclif's explicit target is this file, whatever its name.
    "pjson.oclif.commands.target = './' + basename(fileURLToPath(import.meta.url));",
    // Not awaited: oclif imports this very file to read COMMANDS, which must not wait on
    // the evaluation of its own top-level await.
    'void execute({ loadOptions: { root: dirname(fileURLToPath(import.meta.url)), pjson, isRoot: true } });',
  ].join('\n');
  await build({
    ...common,
    stdin: {
      contents: entrySource,
      resolveDir: cliDir,
      sourcefile: 'falai-entry.mjs',
      loader: 'js',
    },
    outfile: join(outDir, 'falai.mjs'),
    minify: true,
    // Native modules and the emulator (sharp) stay out; everything else is inlined.
    plugins: [
      embedModels(),
      externals(
        (name) =>
          !/^(better-sqlite3|sharp|@img\/|node:|@falai\/emulator)/.test(name) && !isBuiltin(name),
      ),
    ],
  });
  await writeFile(join(outDir, 'package.json'), `${JSON.stringify({ type: 'module' }, null, 2)}\n`);
  console.log(
    `bundled ${entries.length} commands into ${relative(process.cwd(), join(outDir, 'falai.mjs'))}`,
  );
}

import { builtinModules } from 'node:module';

function isBuiltin(name) {
  return builtinModules.includes(name) || builtinModules.includes(name.split('/')[0]);
}

if (mode === 'dist') await distBuild({ forPack: false });
else if (mode === 'pack') await distBuild({ forPack: true });
else if (mode === 'single') await singleBuild();
else {
  console.error('usage: node scripts/bundle.mjs dist|pack|single');
  process.exit(2);
}
