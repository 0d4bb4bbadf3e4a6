import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MIN_ID_PREFIX } from '@falai/core/internal';
import { describe, expect, it } from 'vitest';
import { NAME_FIELDS } from '../src/output-names.js';
import { CLI_DIR } from './helpers.js';

/**
 * The install instructions are what a new user runs first, and nothing is on npm yet: every
 * README tells them to pack and install tarballs (pack.test.ts and pack-packages.test.ts run
 * exactly that), and none tells them to install from the registry.
 */
const REPO = join(CLI_DIR, '..', '..');
const PACKAGES = {
  'apps/cli': 'falai',
  'packages/core': '@falai/core',
  'packages/store-file': '@falai/store-file',
  'packages/store-redis': '@falai/store-redis',
  'packages/store-sqlite': '@falai/store-sqlite',
  'packages/emulator': '@falai/emulator',
  models: '@falai/models',
} as const;

/** The lines of the fenced code blocks of a Markdown file. */
function codeLines(markdown: string): string[] {
  const lines: string[] = [];
  let inside = false;
  for (const line of markdown.split('\n')) {
    if (line.trimStart().startsWith('```')) inside = !inside;
    else if (inside) lines.push(line);
  }
  return lines;
}

/** `npm install falai`, `npm i -g @falai/core@1`, `pnpm add @falai/store-file …`: the registry. */
const REGISTRY_INSTALL =
  /\b(?:npm (?:install|i)|pnpm add|yarn add)\b(?:\s+-\S+)*(?:\s+\S+)*?\s+(?:falai|@falai\/[\w-]+)(?:@\S*)?(?=\s|$)/;

async function readme(folder: string): Promise<string> {
  return readFile(join(REPO, folder, 'README.md'), 'utf8');
}

describe('install instructions', () => {
  it('no README installs a falai package from the npm registry in its commands', async () => {
    for (const folder of ['.', ...Object.keys(PACKAGES)]) {
      for (const line of codeLines(await readme(folder))) {
        expect(line, `${folder}/README.md`).not.toMatch(REGISTRY_INSTALL);
      }
    }
  });

  it('each package README packs the package and installs the tarball pnpm pack makes', async () => {
    for (const [folder, name] of Object.entries(PACKAGES)) {
      const manifest = JSON.parse(await readFile(join(REPO, folder, 'package.json'), 'utf8')) as {
        name: string;
        version: string;
      };
      expect(manifest.name).toBe(name);
      // pnpm pack names `@scope/name` as `scope-name-<version>.tgz`.
      const tarball = `${name.replace(/^@/, '').replace('/', '-')}-${manifest.version}.tgz`;
      const markdown = await readme(folder);
      expect(markdown, folder).toMatch(/^## Install$/m);
      const lines = codeLines(markdown);
      expect(
        lines.some((line) => line.includes('pnpm pack')),
        `${folder}: pnpm pack`,
      ).toBe(true);
      expect(
        lines.some((line) => /\bnpm install\b/.test(line) && line.includes(tarball)),
        `${folder}: npm install …${tarball}`,
      ).toBe(true);
      // A store's tarball depends on core's, so its install line names both.
      if (name.startsWith('@falai/store-')) {
        expect(
          lines.some((line) => line.includes(tarball) && line.includes('falai-core-0.0.0.tgz')),
          `${folder}: installs core with it`,
        ).toBe(true);
      }
      // Core and the emulator depend on @falai/models (so the stores do too, through core):
      // their install line names the models tarball.
      if (name !== 'falai' && name !== '@falai/models') {
        expect(
          lines.some((line) => line.includes(tarball) && line.includes('falai-models-0.0.0.tgz')),
          `${folder}: installs the models with it`,
        ).toBe(true);
      }
    }
  });

  it('the top README has an Install section that says nothing is published yet', async () => {
    const markdown = await readme('.');
    const install = markdown.slice(markdown.indexOf('## Install'));
    expect(install).toMatch(/nothing is published to npm yet/i);
    expect(codeLines(install).join('\n')).toContain('npm install -g ./falai-0.0.0.tgz');
  });
});

describe('the CLI README describes what the CLI does', () => {
  it('lists every --name field the CLI knows, and the naming of --out <file>', async () => {
    const markdown = await readme('apps/cli');
    for (const field of NAME_FIELDS) expect(markdown).toContain(`{${field}}`);
    expect(markdown).toContain('--out cat.png');
    expect(markdown).toContain('`cat-1.png`');
  });

  it('documents short ids, the prune guard, the forget warning and the seed file', async () => {
    const markdown = await readme('apps/cli');
    expect(markdown).toContain(`unique prefix of at least ${MIN_ID_PREFIX} characters`);
    expect(markdown).toContain('--include-undownloaded');
    expect(markdown).toMatch(/fal still runs and bills it/);
    expect(markdown).toContain('~/.openclaw/workspace/fal-pending.json');
    expect(markdown).not.toContain('FALAI_SKIP_PACK_TEST');
  });
});
