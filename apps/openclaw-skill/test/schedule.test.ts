import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installSkill, scheduleCommand, schedulePolling } from '../src/index.js';
import { tempDir, writeFakeBundle } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
let env: Record<string, string | undefined>;
let calls: string;

/**
 * A fake `openclaw` on PATH: records each argv as a JSON line, answers `automations list`
 * according to FAKE_GATEWAY (up/down), and fails `create` when FAKE_CREATE=fail.
 */
function installFakeOpenclaw(bin: string) {
  mkdirSync(bin, { recursive: true });
  const script = join(bin, 'openclaw');
  writeFileSync(
    script,
    `#!${process.execPath}
const fs = require('node:fs');
fs.appendFileSync(process.env.FAKE_CALLS, JSON.stringify(process.argv.slice(2)) + '\\n');
const [group, verb] = process.argv.slice(2);
if (group === 'automations' && verb === 'list') {
  if (process.env.FAKE_GATEWAY === 'up') { console.log('{"ok":true,"jobs":[]}'); process.exit(0); }
  console.log(JSON.stringify({ ok: false, error: { type: 'cli_error', message: 'gateway closed (1006)\\nFix: start it' } }));
  process.exit(1);
}
if (group === 'automations' && verb === 'create') {
  if (process.env.FAKE_CREATE === 'fail') { console.error('missing scope: operator.admin'); process.exit(1); }
  console.log('{"ok":true,"job":{"id":"job-1"}}');
  process.exit(0);
}
process.exit(2);
`,
  );
  chmodSync(script, 0o755);
}

beforeEach(() => {
  tmp = tempDir();
  calls = join(tmp.path, 'calls.jsonl');
  const bin = join(tmp.path, 'bin');
  installFakeOpenclaw(bin);
  env = {
    HOME: join(tmp.path, 'home'),
    OPENCLAW_WORKSPACE_DIR: join(tmp.path, 'ws'),
    PATH: [bin, process.env.PATH].join(delimiter),
    FAKE_CALLS: calls,
  };
});
afterEach(() => tmp.cleanup());

function recorded(): string[][] {
  if (!existsSync(calls)) return [];
  return readFileSync(calls, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

describe('scheduleCommand', () => {
  it('builds the automation for an installed falai when no skill is installed', () => {
    const planned = scheduleCommand({ env });
    expect(planned.pollCommand).toBe('FALAI_SKILL=openclaw falai poll --download --json');
    expect(planned.argv).toEqual([
      'automations',
      'create',
      '*/5 * * * *',
      '--name',
      'falai poll',
      '--command',
      'FALAI_SKILL=openclaw falai poll --download --json',
      '--command-cwd',
      join(tmp.path, 'ws'),
      '--declaration-key',
      'falai-poll',
      '--no-deliver',
    ]);
    expect(planned.commandLine).toContain(
      `openclaw automations create '*/5 * * * *' --name 'falai poll' --command 'FALAI_SKILL=openclaw falai poll --download --json'`,
    );
    expect(planned.heartbeatLine).toMatch(/^- Collect finished fal.ai jobs: run `.* poll/);
  });

  it('uses the installed skill script by absolute path', async () => {
    await installSkill({ env, cliBundlePath: writeFakeBundle(join(tmp.path, 'b.mjs')) });
    const script = join(tmp.path, 'ws/skills/falai/scripts/falai.mjs');
    expect(scheduleCommand({ env }).pollCommand).toBe(`node ${script} poll --download --json`);
    expect(scheduleCommand({ env, scriptPath: script }).pollCommand).toBe(
      `node ${script} poll --download --json`,
    );
    expect(scheduleCommand({ env, falaiCommand: 'npx falai' }).pollCommand).toBe(
      'npx falai poll --download --json',
    );
  });
});

describe('scheduleCommand with a session', () => {
  it('delivers to that session: skill deliver, announced, one automation per session', () => {
    const planned = scheduleCommand({ env, session: "agent:main:it's" });
    expect(planned.pollCommand).toBe(
      `FALAI_SKILL=openclaw falai skill deliver --session 'agent:main:it'\\''s'`,
    );
    const { argv } = planned;
    expect(argv[argv.indexOf('--name') + 1]).toBe("falai deliver agent:main:it's");
    expect(argv.slice(-3)).toEqual(['--announce', '--session-key', "agent:main:it's"]);
    expect(argv).not.toContain('--no-deliver');
    const key = argv[argv.indexOf('--declaration-key') + 1];
    expect(key).toMatch(/^falai-deliver-[0-9a-f]{16}$/);
    expect(scheduleCommand({ env, session: 'other' }).argv).not.toContain(key);
    expect(scheduleCommand({ env, session: "agent:main:it's" }).argv).toContain(key);
  });
});

describe('schedulePolling', () => {
  it('creates the automation when a gateway answers', async () => {
    const result = await schedulePolling({ env: { ...env, FAKE_GATEWAY: 'up' } });
    expect(result).toMatchObject({ status: 'created', gateway: true });
    const argv = recorded();
    expect(argv).toHaveLength(2);
    expect(argv[0]).toEqual(['automations', 'list', '--json']);
    expect(argv[1]).toEqual(result.argv);
  });

  it('prints the exact command when no gateway answers', async () => {
    const result = await schedulePolling({ env: { ...env, FAKE_GATEWAY: 'down' } });
    expect(result.status).toBe('manual');
    expect(result.gateway).toBe(false);
    expect(result.reason).toContain('gateway closed (1006)');
    expect(result.commandLine.startsWith('openclaw automations create ')).toBe(true);
    expect(recorded()).toEqual([['automations', 'list', '--json']]);
  });

  it('prints the exact command when openclaw is not installed', async () => {
    const result = await schedulePolling({ env: { ...env, PATH: join(tmp.path, 'empty') } });
    expect(result.status).toBe('manual');
    expect(result.reason).toMatch(/not on PATH/);
    expect(recorded()).toEqual([]);
  });

  it('reports a failed create with the command to run', async () => {
    const error = await schedulePolling({
      env: { ...env, FAKE_GATEWAY: 'up', FAKE_CREATE: 'fail' },
    }).catch((e) => e);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('operator.admin');
    expect(error.message).toContain('openclaw automations create');
  });
});
