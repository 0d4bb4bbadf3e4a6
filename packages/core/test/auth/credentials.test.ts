import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  describeCredentialSources,
  findKeyInMarkdown,
  maskKey,
  redactKey,
  resolveCredentials,
  toolsSection,
} from '../../src/auth/index.js';
import { resolveSettings } from '../../src/config/index.js';
import { AuthError } from '../../src/errors/index.js';
import { type TempHome, tempHome } from '../config/temp-env.js';

const KEY = '0b1c2d3e-aaaa-bbbb-cccc-000000000001:5f0e7d1c2b3a49586776a5b4c3d2e1f0';
const SECRET = KEY.split(':')[1] as string;

let t: TempHome;
beforeEach(async () => {
  t = await tempHome();
});
afterEach(async () => {
  await t.cleanup();
});

describe('maskKey', () => {
  it('shows at most 8 characters and never the secret', () => {
    expect(maskKey(KEY)).toBe('0b1c2d3e…');
    expect(maskKey('short-id:short-secret-value')).toBe('short-…');
    expect(maskKey('a:b')).toBe('…');
    expect(maskKey('')).toBe('…');
    expect(maskKey('nocolonatallbutlong')).toBe('noco…');
  });
  it('redacts the key and its secret from text', () => {
    expect(redactKey(`bad key ${KEY} and ${SECRET}`, KEY)).toBe('bad key 0b1c2d3e… and …');
  });
});

describe('markdown key patterns (seed compatible)', () => {
  it('finds FAL_KEY lines, with Markdown decoration', () => {
    expect(findKeyInMarkdown(`### fal.ai\nFAL_KEY: ${KEY}\n`)).toBe(KEY);
    expect(findKeyInMarkdown(`- **FAL_KEY**: \`${KEY}\``)).toBe(KEY);
    expect(findKeyInMarkdown(`export FAL_KEY="${KEY}"`)).toBe(KEY);
    expect(findKeyInMarkdown(`fal.ai api key: ${KEY}`)).toBe(KEY);
    expect(findKeyInMarkdown(`Fal API Key ${KEY}`)).toBe(KEY);
    expect(findKeyInMarkdown('Get a key at: https://fal.ai/dashboard/keys')).toBeUndefined();
    expect(findKeyInMarkdown('FAL_KEY_ID: abc')).toBeUndefined();
  });
  it('extracts only the ## Tools section', () => {
    const md = `# Agent\n## Tools\nFAL_KEY: ${KEY}\n### sub\nmore\n## Other\nFAL_KEY: x:y\n`;
    expect(toolsSection(md)).toBe(`FAL_KEY: ${KEY}\n### sub\nmore`);
    expect(toolsSection('# none\n')).toBeUndefined();
  });
});

describe('resolveCredentials', () => {
  it('prefers an explicit key over everything', async () => {
    const c = await resolveCredentials({ explicitKey: KEY, env: { ...t.env, FAL_KEY: 'x:y' } });
    expect(c.source).toBe('explicit option (--key)');
    expect(c.key).toBe(KEY);
  });

  it('reads FAL_KEY, then FAL_KEY_ID + FAL_KEY_SECRET', async () => {
    expect((await resolveCredentials({ env: { ...t.env, FAL_KEY: KEY } })).source).toBe(
      'env FAL_KEY',
    );
    const pair = await resolveCredentials({
      env: { ...t.env, FAL_KEY_ID: 'id-1', FAL_KEY_SECRET: 'secret-1' },
    });
    expect(pair).toMatchObject({ key: 'id-1:secret-1', source: 'env FAL_KEY_ID + FAL_KEY_SECRET' });
  });

  it('reads openclaw.json (JSON5) apiKey, then env.FAL_KEY, under profile/state/config vars', async () => {
    await t.write(
      '.openclaw/openclaw.json',
      `// JSON5 with comments\n{ skills: { entries: { falai: { apiKey: '${KEY}', }, }, }, }`,
    );
    const c = await resolveCredentials({ env: t.env });
    expect(c.source).toContain('skills.entries.falai.apiKey');
    expect(c.source).toContain(`${t.home}/.openclaw/openclaw.json`);

    await t.write(
      '.openclaw-work/openclaw.json',
      `{ skills: { entries: { falai: { env: { FAL_KEY: "id-2:s2" } } } } }`,
    );
    const profiled = await resolveCredentials({ env: { ...t.env, OPENCLAW_PROFILE: 'work' } });
    expect(profiled).toMatchObject({ key: 'id-2:s2' });
    expect(profiled.source).toContain('env.FAL_KEY');

    const custom = await t.write(
      'custom/oc.json',
      `{ skills: { entries: { falai: { apiKey: "id-3:s3" } } } }`,
    );
    expect(
      (await resolveCredentials({ env: { ...t.env, OPENCLAW_CONFIG_PATH: custom } })).key,
    ).toBe('id-3:s3');

    await t.write(
      'state/openclaw.json',
      `{ skills: { entries: { falai: { apiKey: { source: "env", provider: "default", id: "MY_FAL" } } } } }`,
    );
    const ref = await resolveCredentials({
      env: { ...t.env, OPENCLAW_STATE_DIR: `${t.home}/state`, MY_FAL: 'id-4:s4' },
    });
    expect(ref).toMatchObject({ key: 'id-4:s4' });
  });

  it('reads TOOLS.md, then AGENTS.md ## Tools, in the workspace (OPENCLAW_WORKSPACE_DIR honoured)', async () => {
    await t.write('ws/AGENTS.md', `# Me\n## Tools\n- fal.ai\n  FAL_KEY: id-5:s5\n`);
    const env = { ...t.env, OPENCLAW_WORKSPACE_DIR: `${t.home}/ws` };
    const agents = await resolveCredentials({ env });
    expect(agents.key).toBe('id-5:s5');
    expect(agents.source).toContain('AGENTS.md ## Tools');
    await t.write('ws/TOOLS.md', `### fal.ai\nFAL_KEY: id-6:s6\n`);
    const tools = await resolveCredentials({ env });
    expect(tools.key).toBe('id-6:s6');
    expect(tools.source).toContain('TOOLS.md');
    // Default workspace: ~/.openclaw/workspace
    await t.write('.openclaw/workspace/TOOLS.md', 'FAL_KEY: id-7:s7');
    expect((await resolveCredentials({ env: t.env })).key).toBe('id-7:s7');
  });

  it("falls back to falai's own config file (via settings)", async () => {
    await t.write('.config/falai/config.json', JSON.stringify({ key: 'id-8:s8' }));
    const settings = await resolveSettings({ env: t.env });
    const c = await resolveCredentials({ env: t.env, settings });
    expect(c).toMatchObject({ key: 'id-8:s8' });
    expect(c.source).toContain('falai config file');
  });

  it('throws AUTH_MISSING listing every source with result and fix', async () => {
    await t.write('.openclaw/openclaw.json', '{ skills: { entries: { other: {} } } }');
    await t.write('.openclaw/workspace/AGENTS.md', '# no tools here');
    const error = (await resolveCredentials({ env: t.env }).catch((e: unknown) => e)) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.code).toBe('AUTH_MISSING');
    const sources = (
      error.details as { sources: { source: string; result: string; fix: string }[] }
    ).sources;
    expect(sources.map((s) => s.source.split(' (')[0])).toEqual([
      'explicit option',
      'env FAL_KEY',
      'env FAL_KEY_ID + FAL_KEY_SECRET',
      'openclaw.json skills.entries.falai.apiKey',
      'openclaw.json skills.entries.falai.env.FAL_KEY',
      'TOOLS.md',
      'AGENTS.md ## Tools',
      'falai config file',
    ]);
    expect(sources[3]?.result).toBe('no skills.entries.falai entry');
    expect(sources[5]?.result).toBe('file not found');
    expect(sources[6]?.result).toBe('no ## Tools section');
    for (const s of sources) expect(s.fix.length).toBeGreaterThan(5);
    expect(error.message).toContain('openclaw config set skills.entries.falai.apiKey');
    expect(error.message).toContain('export FAL_KEY=');
  });

  it('reports broken openclaw.json and keeps looking', async () => {
    await t.write('.openclaw/openclaw.json', '{ skills: ');
    await t.write('.config/falai/config.json', JSON.stringify({ key: 'id-9:s9' }));
    const c = await resolveCredentials({ env: t.env });
    expect(c.key).toBe('id-9:s9');
    const reports = await describeCredentialSources({ env: t.env });
    expect(reports[3]?.result).toMatch(/invalid JSON5/);
  });

  it('throws AUTH_INVALID naming the source for a key without a colon', async () => {
    await t.write('.openclaw/workspace/TOOLS.md', 'FAL_KEY: your-key-here');
    const error = (await resolveCredentials({ env: t.env }).catch((e: unknown) => e)) as AuthError;
    expect(error.code).toBe('AUTH_INVALID');
    expect(error.message).toContain('TOOLS.md');
    expect(error.message).not.toContain('your-key-here');
    await expect(resolveCredentials({ env: { ...t.env, FAL_KEY: 'justsecret' } })).rejects.toThrow(
      /env FAL_KEY.*malformed/,
    );
  });

  it('never reveals the key through JSON, spread, keys or inspect', async () => {
    const c = await resolveCredentials({ env: { ...t.env, FAL_KEY: KEY } });
    expect(c.key).toBe(KEY);
    expect(c.masked).toBe('0b1c2d3e…');
    for (const text of [
      JSON.stringify(c),
      JSON.stringify({ ...c }),
      inspect(c),
      String(c),
      Object.keys(c).join(),
    ]) {
      expect(text).not.toContain(SECRET);
    }
  });
});

describe('describeCredentialSources', () => {
  it('lists every source, masked, marking the selected one', async () => {
    await t.write('.openclaw/workspace/TOOLS.md', 'FAL_KEY: nocolon');
    const reports = await describeCredentialSources({ env: { ...t.env, FAL_KEY: KEY } });
    expect(reports).toHaveLength(8);
    expect(reports[1]).toMatchObject({
      found: true,
      selected: true,
      valid: true,
      masked: '0b1c2d3e…',
    });
    expect(reports[5]).toMatchObject({ found: true, selected: false, valid: false });
    expect(reports[0]).toMatchObject({ found: false, result: 'not given' });
    expect(JSON.stringify(reports)).not.toContain(SECRET);
  });
});
