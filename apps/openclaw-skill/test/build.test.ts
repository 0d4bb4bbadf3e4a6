import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FalaiError } from '@falai/core';
import { modelsDir } from '@falai/models';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildSkill, checkClawHubRules, loadModelFiles } from '../src/index.js';
import { runNode, tempDir, writeFakeBundle } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
let bundle: string;
beforeEach(() => {
  tmp = tempDir();
  bundle = writeFakeBundle(join(tmp.path, 'falai-bundle.mjs'));
});
afterEach(() => tmp.cleanup());

describe('buildSkill', () => {
  it('writes SKILL.md, references, the wrapper and the CLI bundle', async () => {
    const out = join(tmp.path, 'falai');
    const built = await buildSkill({ outDir: out, cliBundlePath: bundle, version: '2.0.0' });
    expect(built.dir).toBe(out);
    expect(built.version).toBe('2.0.0');
    expect(built.files).toEqual([
      'SKILL.md',
      'references/models.json',
      'scripts/falai-cli.mjs',
      'scripts/falai.mjs',
    ]);
    // By default the skill documents the built-in models: the @falai/models package's folder.
    const expected = loadModelFiles([modelsDir]);
    expect(expected.length).toBeGreaterThanOrEqual(5);
    expect(built.models).toEqual(expected.map((m) => m.endpointId));
    const references = JSON.parse(readFileSync(join(out, 'references/models.json'), 'utf8'));
    for (const model of expected) expect(references.models[model.endpointId]).toEqual(model);
    expect(readFileSync(join(out, 'scripts/falai-cli.mjs'), 'utf8')).toBe(
      readFileSync(bundle, 'utf8'),
    );
  });

  it('the wrapper sets FALAI_SKILL=openclaw and passes arguments to the bundled CLI', async () => {
    const out = join(tmp.path, 'falai');
    await buildSkill({ outDir: out, cliBundlePath: bundle });
    const env = { ...process.env, FALAI_SKILL: '' };
    const run = runNode(join(out, 'scripts/falai.mjs'), ['list', '--json'], { env });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ argv: ['list', '--json'], skill: 'openclaw' });
  });

  it('passes ClawHub rules', async () => {
    const out = join(tmp.path, 'falai');
    await buildSkill({ outDir: out, cliBundlePath: bundle });
    expect(await checkClawHubRules(out)).toEqual([]);
  });

  it('declares variables the bundle reads, so the scan stays clean', async () => {
    const reading = writeFakeBundle(
      join(tmp.path, 'reading.mjs'),
      'const token = process.env.ACME_API_TOKEN; const dir = process.env["FALAI_NEW_THING"];',
    );
    const out = join(tmp.path, 'falai');
    await buildSkill({ outDir: out, cliBundlePath: reading });
    const skill = readFileSync(join(out, 'SKILL.md'), 'utf8');
    expect(skill).toContain('| `ACME_API_TOKEN` |');
    expect(skill).toContain('| `FALAI_NEW_THING` |');
    expect(await checkClawHubRules(out)).toEqual([]);
  });

  it('rebuilds over a previous build and keeps its dot-folders', async () => {
    const out = join(tmp.path, 'falai');
    await buildSkill({ outDir: out, cliBundlePath: bundle });
    mkdirSync(join(out, '.clawhub'));
    writeFileSync(join(out, '.clawhub/origin.json'), '{}');
    writeFileSync(join(out, 'stale.txt'), 'old');
    const rebuilt = await buildSkill({ outDir: out, cliBundlePath: bundle });
    expect(rebuilt.files).not.toContain('stale.txt');
    expect(existsSync(join(out, 'stale.txt'))).toBe(false);
    expect(existsSync(join(out, '.clawhub/origin.json'))).toBe(true);
  });

  it('refuses to write into a folder that is not a skill', async () => {
    const out = join(tmp.path, 'mine');
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'keep me');
    const error = await buildSkill({ outDir: out, cliBundlePath: bundle }).catch((e) => e);
    expect(FalaiError.isInstance(error)).toBe(true);
    expect(error.code).toBe('OUTPUT_EXISTS');
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('keep me');
  });

  it('says how to build the CLI bundle when it is missing', async () => {
    const error = await buildSkill({
      outDir: join(tmp.path, 'falai'),
      cliBundlePath: join(tmp.path, 'nope.mjs'),
    }).catch((e) => e);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('pnpm --filter falai bundle');
  });

  it('reads models from given folders and reports a broken model file by name', async () => {
    const models = join(tmp.path, 'models');
    mkdirSync(join(models, 'acme'), { recursive: true });
    writeFileSync(join(models, 'acme/thing.json'), '{"endpointId":"acme/other"}');
    const error = await buildSkill({
      outDir: join(tmp.path, 'falai'),
      cliBundlePath: bundle,
      modelsDirs: [models],
    }).catch((e) => e);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('acme/thing.json');
  });
});

describe('checkClawHubRules', () => {
  async function built() {
    const out = join(tmp.path, 'falai');
    await buildSkill({ outDir: out, cliBundlePath: bundle });
    return out;
  }

  it('flags binary files, plugin markers and undeclared variables', async () => {
    const out = await built();
    writeFileSync(join(out, 'scripts/helper.node'), Buffer.from([0, 1, 2, 3]));
    writeFileSync(join(out, 'openclaw.plugin.json'), '{}');
    writeFileSync(join(out, 'package.json'), '{"name":"x","openclaw":{"extensions":[]}}');
    writeFileSync(join(out, 'scripts/extra.mjs'), 'console.log(process.env.FAL_SECRET_SAUCE);');
    const rules = (await checkClawHubRules(out)).map((p) => `${p.rule}:${p.path}`).sort();
    expect(rules).toEqual([
      'env-undeclared:SKILL.md',
      'plugin-marker:openclaw.plugin.json',
      'plugin-marker:package.json',
      'text-only:scripts/helper.node',
    ]);
  });

  it('flags invalid UTF-8, a long description and a wrong name', async () => {
    const out = await built();
    writeFileSync(join(out, 'references/bad.txt'), Buffer.from([0xff, 0xfe, 0x00]));
    const skill = readFileSync(join(out, 'SKILL.md'), 'utf8')
      .replace('name: falai', 'name: Fal_AI')
      .replace(/description: .*/, `description: ${'x'.repeat(200)}`);
    writeFileSync(join(out, 'SKILL.md'), skill);
    const rules = (await checkClawHubRules(out)).map((p) => p.rule).sort();
    expect(rules).toEqual(['description', 'slug', 'text-only']);
  });

  it('flags a missing SKILL.md and oversized files', async () => {
    const out = join(tmp.path, 'empty');
    mkdirSync(out);
    writeFileSync(join(out, 'big.txt'), Buffer.alloc(10 * 1024 * 1024 + 1, 'a'));
    chmodSync(join(out, 'big.txt'), 0o644);
    const rules = (await checkClawHubRules(out)).map((p) => p.rule).sort();
    expect(rules).toEqual(['file-size', 'skill-md']);
  });
});
