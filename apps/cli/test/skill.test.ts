import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../src/exit-codes.js';
import { CLI_DIR, type CliResult, createTestEnv, type TestEnv } from './helpers.js';

/** `falai skill build|install|schedule`, end to end through the built CLI. */
let t: TestEnv;
let bundle: string;
let fakeBin: string;
let calls: string;

function json(result: CliResult): Record<string, unknown> {
  expect(result.code, `${result.stdout}${result.stderr}`).toBe(0);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

beforeAll(async () => {
  t = await createTestEnv({ emulator: false });
  bundle = join(t.dir, 'falai-bundle.mjs');
  await writeFile(
    bundle,
    "process.stdout.write(JSON.stringify({ skill: process.env.FALAI_SKILL }) + '\\n');\n",
  );
  // A fake `openclaw` that records its argv and answers like a gateway that is up or down.
  fakeBin = join(t.dir, 'bin');
  calls = join(t.dir, 'openclaw-calls.jsonl');
  await mkdir(fakeBin);
  await writeFile(
    join(fakeBin, 'openclaw'),
    `#!${process.execPath}
require('node:fs').appendFileSync(process.env.FAKE_CALLS, JSON.stringify(process.argv.slice(2)) + '\\n');
const [group, verb] = process.argv.slice(2);
if (group === 'automations' && verb === 'list') process.exit(process.env.FAKE_GATEWAY === 'up' ? 0 : 1);
if (group === 'automations' && verb === 'create') { console.log('{"ok":true}'); process.exit(0); }
process.exit(2);
`,
  );
  await chmod(join(fakeBin, 'openclaw'), 0o755);
});
afterAll(() => t?.close());

describe('falai skill build', () => {
  it('writes the skill folder with every registry model, user models included', async () => {
    const models = join(t.dir, 'user-models');
    const builtin = JSON.parse(
      await readFile(join(CLI_DIR, '../../models/fal-ai/nano-banana-pro.json'), 'utf8'),
    );
    await mkdir(join(models, 'acme'), { recursive: true });
    await writeFile(
      join(models, 'acme/poster-maker.json'),
      JSON.stringify({ ...builtin, endpointId: 'acme/poster-maker', name: 'Acme Poster Maker' }),
    );
    const out = join(t.dir, 'built', 'falai');
    const result = json(
      await t.run(['skill', 'build', '--out', out, '--cli-bundle', bundle, '--json'], {
        env: { FALAI_MODELS_DIR: models },
      }),
    );
    expect(result.dir).toBe(out);
    expect(result.problems).toEqual([]);
    expect(result.files).toEqual(
      expect.arrayContaining(['SKILL.md', 'references/models.json', 'scripts/falai.mjs']),
    );
    expect(result.models).toEqual(
      expect.arrayContaining(['fal-ai/nano-banana-pro', 'acme/poster-maker']),
    );
    const skill = await readFile(join(out, 'SKILL.md'), 'utf8');
    expect(skill).toMatch(/^---\nname: falai\n/);
    expect(skill).toContain('### Acme Poster Maker: `acme/poster-maker`');
  });

  it('prints where it wrote the skill in human mode', async () => {
    const out = join(t.dir, 'human', 'falai');
    const result = await t.run(['skill', 'build', '--out', out, '--cli-bundle', bundle]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`to ${out}`);
    expect(result.stderr).toContain(`openclaw skills install ${out} --as falai`);
  });

  it('needs --out, and says how to get a CLI bundle when it is missing', async () => {
    const usage = await t.run(['skill', 'build', '--json']);
    expect(usage.code).toBe(EXIT_CODES.USAGE);
    const missing = await t.run([
      'skill',
      'build',
      '--out',
      join(t.dir, 'x'),
      '--cli-bundle',
      join(t.dir, 'nope.mjs'),
      '--json',
    ]);
    expect(missing.code).toBe(EXIT_CODES.CONFIG_INVALID);
    expect(JSON.parse(missing.stdout).error.message).toContain('pnpm --filter falai bundle');
  });
});

describe('falai skill install', () => {
  it('installs into a workspace, then upgrades it', async () => {
    const workspace = join(t.dir, 'ws');
    const args = ['skill', 'install', '--workspace', workspace, '--cli-bundle', bundle, '--json'];
    const first = json(await t.run(args));
    expect(first).toMatchObject({
      action: 'installed',
      dir: join(workspace, 'skills/falai'),
      source: 'openclaw-workspace',
    });
    const second = json(await t.run(args));
    expect(second.action).toBe('upgraded');
  });

  it('installs into the OpenClaw workspace from the environment by default, or globally', async () => {
    const workspace = join(t.dir, 'env-ws');
    const state = join(t.dir, 'state');
    const env = { OPENCLAW_WORKSPACE_DIR: workspace, OPENCLAW_STATE_DIR: state };
    const local = json(
      await t.run(['skill', 'install', '--cli-bundle', bundle, '--json'], { env }),
    );
    expect(local.dir).toBe(join(workspace, 'skills/falai'));
    const global = json(
      await t.run(['skill', 'install', '--global', '--cli-bundle', bundle, '--json'], { env }),
    );
    expect(global).toMatchObject({ dir: join(state, 'skills/falai'), source: 'openclaw-managed' });
  });

  it('refuses --workspace together with --global', async () => {
    const result = await t.run(['skill', 'install', '--global', '--workspace', t.dir, '--json']);
    expect(result.code).toBe(EXIT_CODES.USAGE);
  });
});

describe('falai skill schedule', () => {
  const env = () => ({
    PATH: [fakeBin, process.env.PATH].join(delimiter),
    FAKE_CALLS: calls,
    OPENCLAW_WORKSPACE_DIR: join(t.dir, 'sched-ws'),
  });
  const recorded = async () =>
    (await readFile(calls, 'utf8').catch(() => ''))
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as string[]);

  it('creates the automation when the gateway is up', async () => {
    await writeFile(calls, '');
    const result = json(
      await t.run(['skill', 'schedule', '--json'], { env: { ...env(), FAKE_GATEWAY: 'up' } }),
    );
    expect(result).toMatchObject({ status: 'created', gateway: true });
    const argv = await recorded();
    expect(argv[0]).toEqual(['automations', 'list', '--json']);
    expect(argv[1]?.slice(0, 7)).toEqual([
      'automations',
      'create',
      '*/5 * * * *',
      '--name',
      'falai poll',
      '--command',
      'FALAI_SKILL=openclaw falai poll --download --json',
    ]);
    expect(argv[1]).toContain('--no-deliver');
  });

  it('prints the command and the HEARTBEAT.md line when the gateway is down', async () => {
    await writeFile(calls, '');
    const result = await t.run(['skill', 'schedule', '--cron', '*/10 * * * *'], {
      env: { ...env(), FAKE_GATEWAY: 'down' },
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      "openclaw automations create '*/10 * * * *' --name 'falai poll'",
    );
    expect(result.stdout).toContain('HEARTBEAT.md');
    expect(result.stdout).toContain('- Collect finished fal.ai jobs');
    expect(await recorded()).toEqual([['automations', 'list', '--json']]);
  });

  it('--print creates nothing', async () => {
    await writeFile(calls, '');
    const result = json(
      await t.run(['skill', 'schedule', '--print', '--json'], {
        env: { ...env(), FAKE_GATEWAY: 'up' },
      }),
    );
    expect(result.status).toBe('manual');
    expect(await recorded()).toEqual([]);
  });
});
