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
//                                     clear message, when they are missing; what falai never
//                                     runs (NEVER_LOADED: oclif's TypeScript support) is left
//                                     out, as in dist/.
//   node scripts/bundle.mjs single <dir> → the same into <dir> (tests that run in parallel
//                                     with this package's own tests use a private folder).
//   node scripts/bundle.mjs externals [<package dir>] → builds both in memory, from the
//                                     workspace packages' TypeScript sources (no build needed),
//                                     and prints as JSON the third-party packages they leave
//                                     external, each with the sources importing it. This is
//                                     what falai needs from node_modules at run time;
//                                     scripts/check-cli-deps.mjs (`pnpm lint`) holds it
//                                     against package.json.
//
// The built-in model definitions (@falai/models) are embedded in every build (see
// embedModels), so no build needs a models folder beside it. Data files of the workspace
// packages are imported as JSON (the emulator's catalogue and prices), so esbuild inlines them.
//
// `dist` and `pack` need oclif.manifest.json next (scripts/manifest.mjs; `build` and
// `prepack` run it).
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBuiltInModels, modelsDir } from '@falai/models';
import { build } from 'esbuild';

const ownDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = join(ownDir, '..', '..');
const mode = process.argv[2];

/**
 * Commands that only make sense inside the monorepo (they read repo files). The `skill`
 * commands are not among them: they get the models from the registry and ship the bundle
 * they run from (see @falai/openclaw-skill `findCliBundle`).
 */
const REPO_ONLY = [];

async function commandEntries(cliDir) {
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
          "  return FILES.map(([id, text]) => parseModelFile('@falai/models/' + id + '.json', id, text));",
          '}',
        ].join('\n'),
      };
    });
  },
});

/**
 * Packages the bundles leave out although oclif imports them, because falai never runs that
 * code; they are not dependencies (lint's dependency check leaves them aside).
 */
const NEVER_LOADED = {
  typescript: "oclif's TypeScript support, for development mode only (a missing one is caught)",
  'ts-node': "oclif's TypeScript support, for development mode only",
  semver: "oclif's Node-version check, skipped by bin/run.js (a missing one is caught)",
  // BullMQ (falai batch worker) loads these only for backends falai never asks for: it is
  // always given an ioredis client.
  pg: "BullMQ's PostgreSQL backend",
  '@valkey/valkey-glide': "BullMQ's Valkey GLIDE client",
};
const NEVER_LOADED_RE = new RegExp(`^(${Object.keys(NEVER_LOADED).join('|')})(/|$)`);

/**
 * True for an import falai never runs. `semver` only when oclif imports it (its Node-version
 * check): BullMQ, inlined into the single-file build, needs it at load time.
 */
const neverLoaded = (name, importer) =>
  NEVER_LOADED_RE.test(name) &&
  !(/^semver(\/|$)/.test(name) && !/[\\/]@oclif[\\/]core[\\/]/.test(importer));

/**
 * Inlines @oclif/core and, transitively, everything it imports, except what falai never
 * runs: oclif's TypeScript support (ts-node, typescript; development mode only) and
 * `semver`, which oclif only loads for its Node-version check, skipped by bin/run.js
 * (and wrapped in a try/catch by oclif, so a missing semver just means no warning).
 */
const keepOclif = (name, importer) =>
  !isBuiltin(name) &&
  !neverLoaded(name, importer) &&
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

/** The `dist` build of the CLI in `cliDir`: one file per command plus shared chunks. */
async function distOptions(cliDir, { forPack }) {
  const entries = await commandEntries(cliDir);
  const others = [
    { in: join(cliDir, 'src', 'main.ts'), out: 'main' },
    { in: join(cliDir, 'src', 'help.ts'), out: 'help' },
    { in: join(cliDir, 'src', 'hooks', 'suggest-command.ts'), out: 'hooks/suggest-command' },
  ].filter((entry) => existsSync(entry.in));
  return {
    entries,
    options: {
      ...common,
      absWorkingDir: cliDir,
      entryPoints: [
        ...entries.map(({ id, path }) => ({ in: path, out: `commands/${id}` })),
        ...others,
      ],
      outdir: join(cliDir, 'dist'),
      splitting: true,
      // Less to read and parse at every start; names stay readable in stack traces.
      minifyWhitespace: true,
      minifySyntax: true,
      sourcemap: !forPack,
      metafile: true,
      // Chunks sit two levels below the package root, like the command files, so code that
      // finds files relative to itself (the emulator's assets) resolves alike.
      chunkNames: 'chunks/[name]-[hash]',
      plugins: [embedModels(), externals(keepOclif)],
    },
  };
}

async function distBuild({ forPack }) {
  const cliDir = ownDir;
  const dist = join(cliDir, 'dist');
  await rm(dist, { recursive: true, force: true });
  const { entries, options } = await distOptions(cliDir, { forPack });
  const result = await build(options);
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

/** The single-file build of the CLI in `cliDir`: everything pure-JS inlined. */
async function singleOptions(cliDir, outFile) {
  const entries = await commandEntries(cliDir);
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
        topics: pkg.oclif?.topics,
        additionalVersionFlags: pkg.oclif?.additionalVersionFlags,
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
  return {
    entries,
    options: {
      ...common,
      stdin: {
        contents: entrySource,
        resolveDir: cliDir,
        sourcefile: 'falai-entry.mjs',
        loader: 'js',
      },
      outfile: outFile,
      minify: true,
      // Native modules (sharp, used by the emulator) stay out, and so does what falai never
      // runs (NEVER_LOADED); everything else is inlined.
      plugins: [
        embedModels(),
        externals(
          (name, importer) =>
            !/^(better-sqlite3|sharp|@img\/|node:)/.test(name) &&
            !neverLoaded(name, importer) &&
            !isBuiltin(name),
        ),
      ],
    },
  };
}

async function singleBuild() {
  const cliDir = ownDir;
  const outDir = process.argv[3] ? resolve(process.argv[3]) : join(cliDir, 'dist-bundle');
  await rm(outDir, { recursive: true, force: true });
  const { entries, options } = await singleOptions(cliDir, join(outDir, 'falai.mjs'));
  await build(options);
  await writeFile(join(outDir, 'package.json'), `${JSON.stringify({ type: 'module' }, null, 2)}\n`);
  console.log(
    `bundled ${entries.length} commands into ${relative(process.cwd(), join(outDir, 'falai.mjs'))}`,
  );
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * Both builds of the CLI in `cliDir`, in memory, from the workspace packages' sources: the
 * third-party packages they leave external (what node_modules must hold at run time), each
 * with the sources that import it, sorted.
 */
async function externalsReport(cliDir) {
  const found = new Map();
  const record = (name, importer) => {
    if (Object.hasOwn(NEVER_LOADED, name)) return;
    const importers = found.get(name) ?? new Set();
    importers.add(importer.replace(/^(\.\.\/)+/, ''));
    found.set(name, importers);
  };
  // Some loads are invisible to esbuild, so the workspace sources are read for them too:
  // `createRequire(import.meta.url)('better-sqlite3')` (the SQLite store: the native module
  // stays optional) and `import(NAME)` with `const NAME = 'eventsource-parser'` (core's status
  // stream). Either way the package is loaded from node_modules at run time.
  const scanRuntimeLoads = {
    name: 'scan-runtime-loads',
    setup(pluginBuild) {
      pluginBuild.onLoad({ filter: /\.[cm]?[jt]s$/ }, async (args) => {
        if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
        const text = await readFile(args.path, 'utf8');
        const constants = new Map(
          [...text.matchAll(/\bconst\s+([A-Za-z_$][\w$]*)\s*=\s*(['"])([^'"]+)\2/g)].map(
            ([, name, , value]) => [name, value],
          ),
        );
        const loads = [
          ...(text.includes('createRequire')
            ? [...text.matchAll(/\brequire\(\s*(['"])([^'"]+)\1\s*\)/g)].map((m) => m[2])
            : []),
          ...[...text.matchAll(/\b(?:import|require)\(\s*([A-Za-z_$][\w$]*)\s*[,)]/g)].map((m) =>
            constants.get(m[1]),
          ),
        ];
        for (const specifier of loads) {
          if (!specifier || /^[./]/.test(specifier) || specifier.startsWith('node:')) continue;
          if (isBuiltin(specifier)) continue;
          record(packageName(specifier), relative(cliDir, args.path));
        }
        return undefined;
      });
    },
  };
  const inMemory = {
    write: false,
    metafile: true,
    sourcemap: false,
    logLevel: 'error',
    // The sources, so lint needs no build first (the packages export them under this condition).
    conditions: ['falai-source'],
  };
  const builds = [
    (await distOptions(cliDir, { forPack: true })).options,
    (await singleOptions(cliDir, join(cliDir, 'dist-bundle', 'falai.mjs'))).options,
  ];
  for (const options of builds) {
    const result = await build({
      ...options,
      ...inMemory,
      plugins: [scanRuntimeLoads, ...options.plugins],
    });
    for (const [input, { imports }] of Object.entries(result.metafile.inputs)) {
      for (const { path, external } of imports) {
        // `<runtime>` is esbuild's own helper module.
        if (!external || path.startsWith('<') || path.startsWith('node:') || isBuiltin(path))
          continue;
        record(packageName(path), input);
      }
    }
  }
  return Object.fromEntries(
    [...found.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, importers]) => [name, [...importers].sort()]),
  );
}

import { builtinModules } from 'node:module';

function isBuiltin(name) {
  return builtinModules.includes(name) || builtinModules.includes(name.split('/')[0]);
}

if (mode === 'dist') await distBuild({ forPack: false });
else if (mode === 'pack') await distBuild({ forPack: true });
else if (mode === 'single') await singleBuild();
else if (mode === 'externals') {
  // esbuild has printed why a build failed; its stack trace would only bury that.
  const report = await externalsReport(process.argv[3] ? resolve(process.argv[3]) : ownDir).catch(
    () => process.exit(1),
  );
  console.log(JSON.stringify(report, null, 2));
} else {
  console.error('usage: node scripts/bundle.mjs dist|pack|single|externals');
  process.exit(2);
}
