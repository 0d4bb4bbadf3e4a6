#!/usr/bin/env node
// falai's entry point. Start-up time matters (agents and scripts call falai in loops), so:
// - `falai --version` / `-v` is answered here without loading oclif; the line is exactly
//   what oclif prints (`config.userAgent`). WSL, which oclif reports as `wsl-<arch>` after
//   probing the system, goes through oclif.
// - oclif comes from dist/main.js, the build's bundle (scripts/bundle.mjs), not from
//   node_modules: the commands in dist/ use that same copy.
// - The oclif plugin (autocomplete) is loaded only when it can matter: not
//   when argv names one of falai's own commands (listed in oclif.manifest.json).
// - oclif's own Node-version check (it loads `semver`) is skipped: package.json `engines`
//   already states the supported Node versions to npm.
import { readFileSync } from 'node:fs';
import { arch, platform, release } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

if ((argv[0] === '--version' || argv[0] === '-v') && !/microsoft/i.test(release())) {
  const cpu = arch() === 'ia32' ? 'x86' : arch();
  process.stdout.write(
    `${pjson.name}/${pjson.version} ${platform()}-${cpu} node-${process.version}\n`,
  );
} else {
  if (isOwnCommand(argv)) pjson.oclif.plugins = [];
  const ownCheck = process.env.OCLIF_DISABLE_ENGINE_WARNING === undefined;
  if (ownCheck) process.env.OCLIF_DISABLE_ENGINE_WARNING = '1';
  const { execute } = await import('../dist/main.js').catch((error) => {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.url).endsWith('/dist/main.js'))
      throw error;
    process.stderr.write('Error: falai is not built. Run `pnpm --filter falai build`.\n');
    process.exit(1);
  });
  // Not inherited by the processes falai starts (the emulator, the skill's scheduled runs).
  if (ownCheck) delete process.env.OCLIF_DISABLE_ENGINE_WARNING;
  const root = dirname(fileURLToPath(new URL('../package.json', import.meta.url)));
  await execute({ args: argv, loadOptions: { root, pjson } });
}

/** True when argv starts with a command of falai itself (`list`, `config get`, …). */
function isOwnCommand(args) {
  if (!args[0] || args[0].startsWith('-')) return false;
  let ids;
  try {
    const manifest = readFileSync(new URL('../oclif.manifest.json', import.meta.url), 'utf8');
    ids = Object.keys(JSON.parse(manifest).commands);
  } catch {
    return false;
  }
  return ids.includes(args[0]) || (args[1] !== undefined && ids.includes(`${args[0]}:${args[1]}`));
}
