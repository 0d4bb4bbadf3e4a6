#!/usr/bin/env node
// Writes oclif.manifest.json for the built CLI (run by `build` after tsc, and after the pack
// bundle). Without a manifest oclif imports every command file at start-up just to learn the
// command ids, flags and help texts; with one it imports only the command that runs.
//
// This is what `oclif manifest` from the oclif dev CLI does, without its ~200 packages: the
// root plugin is loaded with `ignoreManifest` (so a stale manifest from an earlier build is
// never reused) and `errorOnManifestCreate` (so a command that fails to import fails the
// build instead of silently vanishing from the CLI).
import { rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Plugin } from '@oclif/core';

const cliDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(cliDir, 'oclif.manifest.json');

await rm(target, { force: true });
const plugin = new Plugin({
  root: cliDir,
  type: 'core',
  isRoot: true,
  ignoreManifest: true,
  errorOnManifestCreate: true,
  respectNoCacheDefault: true,
});
await plugin.load();
const { manifest } = plugin;
const count = Object.keys(manifest.commands).length;
if (count === 0) throw new Error(`no commands found under ${join(cliDir, 'dist', 'commands')}`);
await writeFile(target, `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`wrote oclif.manifest.json: ${count} commands, version ${manifest.version}`);
