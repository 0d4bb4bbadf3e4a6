import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLI_DIR } from './helpers.js';

/**
 * Nothing is published yet, so the READMEs tell people to install from packed tarballs:
 * `pnpm pack` in each package, then `npm install ./falai-core-0.0.0.tgz ./falai-store-file-…`
 * (the CLI's own tarball is covered by pack.test.ts). This does exactly that in an empty
 * folder, with plain npm (third-party packages from the npm registry or its cache), and
 * uses what it installed.
 */
const run = promisify(execFile);
const REPO = join(CLI_DIR, '..', '..');
const PACKAGES = [
  'models',
  'core',
  'store-file',
  'store-redis',
  'store-sqlite',
  'emulator',
] as const;
/** Where each package lives: the model definitions are the repository's models/ folder. */
const folderOf = (name: (typeof PACKAGES)[number]) =>
  name === 'models' ? join(REPO, 'models') : join(REPO, 'packages', name);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

let dir: string;
const tarballs: Record<string, string> = {};
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'falai-pack-packages-'));
  const packDir = join(dir, 'pack');
  for (const name of PACKAGES) {
    const before = new Set(await readdir(packDir).catch(() => []));
    await run('pnpm', ['pack', '--pack-destination', packDir], { cwd: folderOf(name) });
    const [made] = (await readdir(packDir)).filter((file) => !before.has(file));
    if (!made) throw new Error(`pnpm pack made no tarball for ${name}`);
    tarballs[name] = join(packDir, made);
  }
}, 300_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function packedManifest(name: string) {
  const { stdout } = await run('tar', ['-xOzf', tarballs[name]!, 'package/package.json']);
  return JSON.parse(stdout) as {
    name: string;
    version: string;
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
}

async function npmInstall(appDir: string, specs: readonly string[]) {
  await mkdir(appDir, { recursive: true });
  await writeFile(join(appDir, 'package.json'), '{"private":true,"type":"module"}\n');
  await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', ...specs],
    { cwd: appDir, env: { ...process.env, npm_config_loglevel: 'error' } },
  );
}

/** Runs an ES module in the app folder and returns what it printed as JSON. */
async function runScript(appDir: string, source: string): Promise<Record<string, unknown>> {
  const file = join(appDir, 'check.mjs');
  await writeFile(file, source);
  const { stdout } = await run(process.execPath, [file], {
    cwd: appDir,
    env: { PATH: process.env.PATH ?? '', HOME: appDir, REDIS_URL },
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

function redisReachable(): Promise<boolean> {
  const url = new URL(REDIS_URL);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port || 6379), url.hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

it('every packed package depends on its @falai siblings by version, never workspace:', async () => {
  for (const name of PACKAGES) {
    const manifest = await packedManifest(name);
    const specs = { ...manifest.dependencies, ...manifest.devDependencies };
    for (const [dependency, spec] of Object.entries(specs)) {
      expect(spec, `${manifest.name} → ${dependency}`).not.toMatch(/^workspace:/);
      if (dependency.startsWith('@falai/')) expect(spec).toBe(`^${manifest.version}`);
    }
  }
});

it('the core and store tarballs install together into an empty folder and work', async () => {
  const appDir = join(dir, 'app');
  await npmInstall(appDir, [
    tarballs.models!,
    tarballs.core!,
    tarballs['store-file']!,
    tarballs['store-redis']!,
    tarballs['store-sqlite']!,
  ]);
  // better-sqlite3 compiles its addon on install (prebuilt binaries come from GitHub, not
  // npm); the workspace's build of the same version is used instead of compiling again.
  const workspaceSqlite = dirname(
    createRequire(join(REPO, 'packages', 'store-sqlite', 'package.json')).resolve(
      'better-sqlite3/package.json',
    ),
  );
  const installedSqlite = join(appDir, 'node_modules', 'better-sqlite3');
  const versionOf = async (path: string) =>
    (JSON.parse(await readFile(join(path, 'package.json'), 'utf8')) as { version: string }).version;
  expect(await versionOf(installedSqlite)).toBe(await versionOf(workspaceSqlite));
  await cp(join(workspaceSqlite, 'build'), join(installedSqlite, 'build'), { recursive: true });
  // The @falai packages came from the tarballs, not from a registry.
  expect((await readdir(join(appDir, 'node_modules', '@falai'))).sort()).toEqual([
    'core',
    'models',
    'store-file',
    'store-redis',
    'store-sqlite',
  ]);

  const withRedis = await redisReachable();
  if (!withRedis && process.env.CI) throw new Error(`Redis is not reachable at ${REDIS_URL}`);
  if (!withRedis)
    console.warn(`\n  ⚠ pack test: no Redis at ${REDIS_URL}; the Redis store is only imported.\n`);
  const output = await runScript(
    appDir,
    `
import { createModelRegistry, resolveCredentials } from '@falai/core';
import { newPendingRecord, parseEndpointId } from '@falai/core/internal';
import { createFileStore } from '@falai/store-file';
import { createRedisStore } from '@falai/store-redis';
import { createSqliteStore } from '@falai/store-sqlite';
const out = {};
out.endpoint = parseEndpointId('fal-ai/nano-banana-pro');
const registry = await createModelRegistry({});
out.models = (await registry.list()).map((model) => model.endpointId);
out.key = (await resolveCredentials({ env: { FAL_KEY: '"id-1:secret-1"' } })).key;
const record = (id) => newPendingRecord({ requestId: id, endpointId: 'fal-ai/nano-banana-pro' });
const file = createFileStore({ path: './pending.json' });
await file.put(record('file-1'));
out.file = (await file.get('file-1'))?.endpointId;
await file.close();
const sqlite = createSqliteStore({ path: './pending.db' });
await sqlite.put(record('sqlite-1'));
out.sqlite = (await sqlite.get('sqlite-1'))?.endpointId;
await sqlite.close();
if (${withRedis}) {
  const redis = createRedisStore({ url: process.env.REDIS_URL, prefix: 'falai-pack-${process.pid}' });
  await redis.put(record('redis-1'));
  out.redis = (await redis.get('redis-1'))?.endpointId;
  await redis.remove('redis-1');
  await redis.close();
} else out.redis = typeof createRedisStore;
console.log(JSON.stringify(out));
`,
  );
  expect(output).toEqual({
    endpoint: { owner: 'fal-ai', alias: 'nano-banana-pro' },
    models: expect.arrayContaining(['fal-ai/nano-banana-pro', 'fal-ai/flux/dev/image-to-image']),
    key: 'id-1:secret-1',
    file: 'fal-ai/nano-banana-pro',
    sqlite: 'fal-ai/nano-banana-pro',
    redis: withRedis ? 'fal-ai/nano-banana-pro' : 'function',
  });
}, 300_000);

it('the emulator tarball installs with the models one and serves a request to completion', async () => {
  const appDir = join(dir, 'emulator-app');
  await npmInstall(appDir, [tarballs.models!, tarballs.emulator!]);
  // sharp's native part is an npm package (@img/sharp-linux-…), so --ignore-scripts is fine.
  const output = await runScript(
    appDir,
    `
import { startEmulator } from '@falai/emulator';
const emulator = await startEmulator({ port: 0, defaultLatency: { queueMs: 10, runMs: 20 } });
// The built-in models (from @falai/models) and the Platform API's data files are found.
const knows = emulator.models.includes('fal-ai/nano-banana-pro');
const catalogue = await (await fetch(emulator.url + '/v1/models?endpoint_id=fal-ai/nano-banana-pro')).json();
const headers = { authorization: 'Key id:secret', 'content-type': 'application/json' };
const submitted = await (await fetch(emulator.url + '/fal-ai/nano-banana-pro', {
  method: 'POST', headers, body: JSON.stringify({ prompt: 'packed' }),
})).json();
let status;
for (;;) {
  status = await (await fetch(submitted.status_url, { headers })).json();
  if (status.status === 'COMPLETED') break;
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const result = await (await fetch(submitted.response_url, { headers })).json();
const image = await fetch(result.images[0].url);
const bytes = Buffer.from(await image.arrayBuffer());
await emulator.close();
console.log(JSON.stringify({
  knows,
  catalogue: catalogue.models.map((model) => model.endpoint_id),
  status: status.status,
  png: bytes.subarray(1, 4).toString(),
}));
`,
  );
  expect(output).toEqual({
    knows: true,
    catalogue: ['fal-ai/nano-banana-pro'],
    status: 'COMPLETED',
    png: 'PNG',
  });
}, 300_000);
