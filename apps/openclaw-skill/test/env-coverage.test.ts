import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_BASE_URLS } from '@falai/core';
import { afterEach, expect, it } from 'vitest';
import { buildSkill, scanEnvNames } from '../src/index.js';
import { tempDir, writeFakeBundle } from './helpers.js';

const CORE_SRC = fileURLToPath(new URL('../../../packages/core/src/', import.meta.url));
const OURS = /^(FAL|FALAI|OPENCLAW)_[A-Z0-9_]+$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * Names core builds from a template, e.g. `FALAI_${host.toUpperCase()}_URL`: the scanner cannot
 * see them, so each template form is expanded here with the values its variable takes. A new
 * template form fails the test until it is taught here (and declared in KNOWN_ENV_VARS).
 */
function templateNames(source: string, file: string): string[] {
  const names: string[] = [];
  for (const match of source.matchAll(
    /`((?:FAL|FALAI|OPENCLAW)_[A-Z0-9_]*)\$\{([^}]+)\}([^`]*)`/g,
  )) {
    const [, prefix, expression, suffix] = match;
    if (expression !== 'host.toUpperCase()') {
      throw new Error(`${file}: unknown env-name template \`${match[0]}\`; expand it in this test`);
    }
    for (const host of Object.keys(DEFAULT_BASE_URLS)) {
      names.push(`${prefix}${host.toUpperCase()}${suffix}`);
    }
  }
  return names;
}

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

it("declares in the built SKILL.md every FAL_/FALAI_/OPENCLAW_ variable core's source reads", async () => {
  const read = new Set<string>();
  for (const file of sourceFiles(CORE_SRC)) {
    const source = readFileSync(file, 'utf8');
    for (const name of scanEnvNames(source)) if (OURS.test(name)) read.add(name);
    for (const name of templateNames(source, file)) read.add(name);
  }
  // The scan must see the variables the settings read, template-built ones included.
  expect([...read]).toEqual(
    expect.arrayContaining(['FAL_KEY', 'FALAI_STORE', 'FALAI_QUEUE_URL', 'FALAI_REST_URL']),
  );

  const tmp = tempDir();
  cleanup = tmp.cleanup;
  const out = join(tmp.path, 'falai');
  const bundle = writeFakeBundle(join(tmp.path, 'falai-bundle.mjs'));
  await buildSkill({ outDir: out, cliBundlePath: bundle, version: '1.0.0' });
  const skillMd = readFileSync(join(out, 'SKILL.md'), 'utf8');
  const environment = skillMd.slice(skillMd.indexOf('## Environment'));
  const missing = [...read].filter((name) => !environment.includes(`| \`${name}\` |`)).sort();
  expect(missing).toEqual([]);
});
