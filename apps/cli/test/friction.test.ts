import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CheckKeyOutputSchema,
  DownloadOutputSchema,
  ErrorOutputSchema,
  ForgetOutputSchema,
  ListOutputSchema,
  PollOutputSchema,
  PruneOutputSchema,
  RunOutputSchema,
  StatusOutputSchema,
  SubmitOutputSchema,
} from '@falai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, FAL_KEY, SECRET, type TestEnv } from './helpers.js';

/**
 * What a new user tripped on (issue #12), each reproduced against the built CLI and the
 * emulator. The emulator accepts only the test key, so a key that reaches it changed (a
 * quoted one) is refused as fal would refuse it.
 */
const T2I = 'fal-ai/nano-banana-pro';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv({ emulator: { keys: { accept: [FAL_KEY] } } });
  // A running app that honours cancel: each test cancels the slow requests it started, so
  // they never hold the emulator's per-key concurrency (fal's default of 2) for later tests.
  env.emulator!.setModel('acme/slow', {
    queueMs: 0,
    runMs: 60_000,
    cancelAware: true,
    logs: [{ message: 'working', atMs: 20 }],
  });
  env.emulator!.setModel('acme/queued', { queueMs: 60_000 });
});
afterAll(async () => {
  await env.close();
});

async function submit(args: readonly string[], options = {}) {
  const result = await env.run(['submit', ...args, '--json'], options);
  if (result.code !== 0) throw new Error(`submit failed (${result.code}): ${result.stderr}`);
  return result.json(SubmitOutputSchema);
}

/** Cancels slow requests a test started (acme/slow honours cancel), freeing the emulator. */
async function stopSlow(...requestIds: string[]) {
  for (const requestId of requestIds) {
    const result = await env.run(['cancel', 'acme/slow', requestId, '--store', 'memory']);
    if (result.code !== 0) throw new Error(`cancel failed: ${result.stderr}`);
  }
}

describe('the seed skill user', () => {
  it('plain list and poll point at ~/.openclaw/workspace/fal-pending.json and say how to use it', async () => {
    const { requestId } = await submit([T2I, '--set', 'prompt=from the seed']);
    const workspace = join(env.baseEnv.HOME!, '.openclaw', 'workspace');
    await mkdir(workspace, { recursive: true });
    const seedFile = join(workspace, 'fal-pending.json');
    await writeFile(
      seedFile,
      JSON.stringify({
        requests: [
          { request_id: requestId, model_id: T2I, status: 'IN_QUEUE', input: { prompt: 'x' } },
        ],
      }),
    );
    // The default store: no FALAI_STORE, no --store, no FAL_PENDING_FILE.
    const plain = { env: { FALAI_STORE: undefined } };
    const list = await env.run(['list'], plain);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('No pending requests.');
    expect(list.stderr).toContain(
      `1 pending request is in the OpenClaw workspace file ${seedFile}`,
    );
    expect(list.stderr).toContain(`falai list --store file:${seedFile}`);
    expect(list.stderr).toContain(`falai config set store file:${seedFile}`);
    const poll = await env.run(['poll'], plain);
    expect(poll.code).toBe(0);
    expect(poll.stderr).toContain(seedFile);
    // The hint is only a pointer: the seed's file is untouched.
    expect(JSON.parse(await readFile(seedFile, 'utf8'))).toHaveProperty(
      'requests.0.status',
      'IN_QUEUE',
    );

    // Following it works; afterwards the hint is gone (nothing pending there any more).
    const adopted = await env.run(['poll', '--store', `file:${seedFile}`, '--json']);
    expect(adopted.json(PollOutputSchema).completed.map((item) => item.requestId)).toEqual([
      requestId,
    ]);
    const again = await env.run(['list'], plain);
    expect(again.stderr).not.toContain(seedFile);
  });

  it('maps `model` when `model_id` is missing, shows migration warnings, and an unknown endpoint is named once', async () => {
    const viaModel = await submit([T2I, '--set', 'prompt=model key']);
    const noModel = await submit([T2I, '--set', 'prompt=no model at all']);
    const seedFile = join(env.dir, 'seed-model', 'fal-pending.json');
    await mkdir(join(env.dir, 'seed-model'));
    await writeFile(
      seedFile,
      JSON.stringify({
        requests: [
          { request_id: viaModel.requestId, model: T2I, status: 'IN_QUEUE' },
          { request_id: noModel.requestId, status: 'IN_QUEUE' },
        ],
      }),
    );
    const store = ['--store', `file:${seedFile}`];
    const poll = await env.run(['poll', ...store, '--json']);
    expect(poll.code).toBe(0);
    // The one warning of the migration reaches the user, even under --json (on stderr).
    expect(poll.stderr).toMatch(
      new RegExp(`Warning: seed file migration: .*\\(${noModel.requestId}\\) has no model_id`),
    );
    const output = poll.json(PollOutputSchema);
    expect(output.completed.map((item) => [item.requestId, item.endpointId])).toEqual([
      [viaModel.requestId, T2I],
    ]);
    expect(output.errors).toEqual([
      {
        requestId: noModel.requestId,
        code: 'INPUT_INVALID',
        message: expect.stringContaining(`falai status <endpoint> ${noModel.requestId}`),
      },
    ]);
    const human = await env.run(['poll', ...store]);
    expect(human.stdout).toContain(
      '1 still pending (1 cannot be checked until its endpoint is named',
    );
    const alone = await env.run(['status', noModel.requestId, ...store]);
    expect(alone.code).toBe(4);
    expect(alone.stderr).toContain(`falai status <endpoint> ${noModel.requestId}`);

    // Naming it once records it, and poll then finishes it.
    const named = await env.run(['status', T2I, noModel.requestId, ...store, '--json']);
    expect(named.code).toBe(0);
    const list = (await env.run(['list', ...store, '--all', '--json'])).json(ListOutputSchema);
    expect(list.requests.find((r) => r.requestId === noModel.requestId)?.endpointId).toBe(T2I);
    const finished = (await env.run(['poll', ...store, '--json'])).json(PollOutputSchema);
    expect(finished.completed.map((item) => item.requestId)).toEqual([noModel.requestId]);
  });
});

describe('flags before the endpoint', () => {
  it('run --set prompt=x <endpoint> and submit --set … --set … <endpoint> <input> parse', async () => {
    const out = join(env.dir, 'flags-first');
    const run = await env.run(['run', '--set', 'prompt=flags first', '--out', out, T2I, '--json']);
    expect(run.code).toBe(0);
    const output = run.json(RunOutputSchema);
    expect(env.emulator!.job(output.requestId)?.input).toEqual({ prompt: 'flags first' });

    const submitted = await submit([
      '--set',
      'num_images=2',
      '-s',
      'aspect_ratio=1:1',
      T2I,
      '{"prompt":"json too"}',
    ]);
    expect(env.emulator!.job(submitted.requestId)?.input).toEqual({
      prompt: 'json too',
      num_images: 2,
      aspect_ratio: '1:1',
    });
  });
});

describe('naming outputs', () => {
  it('--out cat.png saves the one output as cat.png (a file, not a folder)', async () => {
    const cat = join(env.dir, 'named', 'cat.png');
    const result = await env.run(['run', T2I, '--set', 'prompt=a cat', '--out', cat]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(cat);
    expect((await stat(cat)).isFile()).toBe(true);
    expect((await readFile(cat)).subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  });

  it('several outputs with --out cat.png become cat-1.png, cat-2.png', async () => {
    const dir = join(env.dir, 'named-many');
    const result = await env.run([
      'run',
      T2I,
      '--set',
      'prompt=two cats',
      '--set',
      'num_images=2',
      '--out',
      join(dir, 'cat.png'),
      '--json',
    ]);
    expect(result.code).toBe(0);
    expect(result.json(RunOutputSchema).outputs.map((file) => file.path)).toEqual([
      join(dir, 'cat-1.png'),
      join(dir, 'cat-2.png'),
    ]);
    expect((await readdir(dir)).sort()).toEqual(['cat-1.png', 'cat-2.png']);
  });

  it('--name fills {endpoint}, {n}, {date}; download and wait take it too', async () => {
    const dir = join(env.dir, 'patterned');
    const { requestId } = await submit([T2I, '--set', 'prompt=pattern', '--set', 'num_images=2']);
    const waited = await env.run([
      'wait',
      requestId,
      '--download',
      '--out',
      dir,
      '--name',
      '{endpoint}-{n}',
      '--json',
    ]);
    expect(waited.code).toBe(0);
    expect((await readdir(dir)).sort()).toEqual([
      'fal-ai_nano-banana-pro-1.png',
      'fal-ai_nano-banana-pro-2.png',
    ]);
    const other = join(env.dir, 'patterned-2');
    const downloaded = await env.run([
      'download',
      requestId,
      '--out',
      other,
      '--name',
      'shot-{date}-{index}',
      '--json',
    ]);
    const today = new Date();
    const date = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, '0')}-${String(today.getDate()).padStart(2, '0')}`;
    expect(downloaded.json(DownloadOutputSchema).outputs.map((file) => file.path)).toEqual([
      join(other, `shot-${date}-0.png`),
      join(other, `shot-${date}-1.png`),
    ]);
  });

  it('a bad --name is refused before anything is submitted (nothing paid for)', async () => {
    const before = (await env.run(['list', '--all', '--json'])).json(ListOutputSchema).count;
    const result = await env.run(['run', T2I, '--set', 'prompt=x', '--name', '{id}.png', '--json']);
    expect(result.code).toBe(4);
    expect(result.json(ErrorOutputSchema).error.message).toMatch(/\{id\} is not a name field/);
    const after = (await env.run(['list', '--all', '--json'])).json(ListOutputSchema).count;
    expect(after).toBe(before);
  });
});

describe('status, forget and prune tell the truth', () => {
  it('status says cancelled for a cancelled request, as list does', async () => {
    const { requestId } = await submit(['acme/queued', '{}']);
    const cancelled = await env.run(['cancel', requestId]);
    expect(cancelled.code).toBe(0);
    const list = (await env.run(['list', '--all', '--json'])).json(ListOutputSchema);
    expect(list.requests.find((r) => r.requestId === requestId)?.status).toBe('cancelled');
    const status = await env.run(['status', requestId, '--json']);
    expect(status.code).toBe(0);
    expect(status.json(StatusOutputSchema)).toMatchObject({
      status: 'cancelled',
      error: { code: 'REQUEST_CANCELLED' },
    });
    const human = await env.run(['status', requestId]);
    expect(human.stdout).toContain(`${requestId}  cancelled`);
    expect(human.stdout).not.toContain('failed');
  });

  it('forget of a queued or running request warns that fal still bills it and names cancel', async () => {
    const { requestId } = await submit(['acme/slow', '{}']);
    const human = await env.run(['forget', requestId, '--quiet']);
    expect(human.code).toBe(0);
    expect(human.stderr).toMatch(/Warning: .* is still (queued|running) at fal/);
    expect(human.stderr).toContain('fal still runs it and bills it');
    expect(human.stderr).toContain(`falai cancel ${requestId}`);

    const other = await submit(['acme/slow', '{}']);
    const json = (await env.run(['forget', other.requestId, '--json'])).json(ForgetOutputSchema);
    expect(json).toMatchObject({ removed: true, warning: expect.stringContaining('bills it') });
    expect(['queued', 'running']).toContain(json.status);
    await stopSlow(requestId, other.requestId);

    // A finished request is forgotten without a warning.
    const done = await env.run(['run', T2I, '--set', 'prompt=done', '--no-download', '--json']);
    const finished = await env.run(['forget', done.json(RunOutputSchema).requestId]);
    expect(finished.stderr).not.toContain('Warning');
  });

  it('prune keeps completed requests whose outputs were never downloaded', async () => {
    const store = ['--store', `file:${join(env.dir, 'prune.json')}`];
    const saved = await env.run([
      'run',
      T2I,
      '--set',
      'prompt=saved',
      '--out',
      join(env.dir, 'pruned'),
      ...store,
      '--json',
    ]);
    const unsaved = await env.run([
      'run',
      T2I,
      '--set',
      'prompt=unsaved',
      '--no-download',
      ...store,
      '--json',
    ]);
    const savedId = saved.json(RunOutputSchema).requestId;
    const unsavedId = unsaved.json(RunOutputSchema).requestId;
    const pruned = await env.run(['prune', '--older-than', '0s', ...store, '--json']);
    expect(pruned.json(PruneOutputSchema)).toMatchObject({
      removed: [{ requestId: savedId, status: 'completed' }],
      kept: [{ requestId: unsavedId, reason: 'outputs never downloaded' }],
    });
    const human = await env.run(['prune', '--older-than', '0s', ...store]);
    expect(human.stderr).toContain(`Kept 1 completed request whose outputs were never downloaded`);
    expect(human.stderr).toContain('--include-undownloaded');
    const forced = await env.run([
      'prune',
      '--older-than',
      '0s',
      '--include-undownloaded',
      ...store,
      '--json',
    ]);
    expect(forced.json(PruneOutputSchema).removed).toEqual([
      { requestId: unsavedId, status: 'completed' },
    ]);
  });
});

describe('download again, and short ids', () => {
  it('a second download of the same files succeeds and says "already downloaded"', async () => {
    const out = join(env.dir, 'twice');
    const { requestId } = await submit([T2I, '--set', 'prompt=twice']);
    await env.run(['wait', requestId]);
    const first = (await env.run(['download', requestId, '--out', out, '--json'])).json(
      DownloadOutputSchema,
    );
    const path = first.outputs[0]!.path;
    const before = await stat(path);
    const again = await env.run(['download', requestId, '--out', out]);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe(path);
    expect(again.stderr).toContain('Already downloaded');
    const json = (await env.run(['download', requestId, '--out', out, '--json'])).json(
      DownloadOutputSchema,
    );
    expect(json.alreadyDownloaded).toEqual([path]);
    expect((await stat(path)).mtimeMs).toBe(before.mtimeMs);

    // A different file at that path is still never replaced without --force.
    await writeFile(path, 'not the image');
    const changed = await env.run(['download', requestId, '--out', out, '--json']);
    expect(changed.code).toBe(8);
    expect(changed.json(ErrorOutputSchema).error.code).toBe('OUTPUT_EXISTS');
  });

  it('every command taking a request id accepts a unique prefix; an ambiguous one lists the candidates', async () => {
    // Its own store: the emulator's ids are sequential (…0001, …0002), so in the shared store
    // no short prefix is unique; with fal's random ids eight characters almost always are.
    const own = ['--store', `file:${join(env.dir, 'short-ids.json')}`];
    const { requestId } = await submit([T2I, '--set', 'prompt=short id', ...own]);
    const short = requestId.slice(0, 8);
    const waited = await env.run(['wait', short, ...own, '--json']);
    expect(waited.code, waited.stderr + waited.stdout).toBe(0);
    const status = (await env.run(['status', short, ...own, '--json'])).json(StatusOutputSchema);
    expect(status).toMatchObject({ requestId, status: 'completed', recorded: true });
    const result = await env.run(['result', short, ...own]);
    expect(result.code, result.stderr).toBe(0);
    expect(
      (await env.run(['status', T2I, short, ...own, '--json'])).json(StatusOutputSchema).requestId,
    ).toBe(requestId);
    const downloaded = await env.run([
      'download',
      short,
      '--out',
      join(env.dir, 'short'),
      ...own,
      '--json',
    ]);
    expect(downloaded.json(DownloadOutputSchema).requestId).toBe(requestId);
    const forgotten = (await env.run(['forget', short, ...own, '--json'])).json(ForgetOutputSchema);
    expect(forgotten).toMatchObject({ requestId, removed: true });

    // Two stored ids sharing a prefix (a seed file lets the test choose them).
    const seedFile = join(env.dir, 'ambiguous.json');
    const a = 'abcd1111-0000-4000-8000-000000000001';
    const b = 'abcd2222-0000-4000-8000-000000000002';
    await writeFile(
      seedFile,
      JSON.stringify({
        requests: [
          { request_id: a, model_id: T2I, status: 'COMPLETED', result: {} },
          { request_id: b, model_id: T2I, status: 'COMPLETED', result: {} },
        ],
      }),
    );
    const store = ['--store', `file:${seedFile}`];
    const ambiguous = await env.run(['forget', 'abcd', ...store, '--json']);
    expect(ambiguous.code).toBe(4);
    const error = ambiguous.json(ErrorOutputSchema).error;
    expect(error.message).toContain('Request id prefix "abcd" matches 2 requests');
    expect(error.message).toContain(a);
    expect(error.message).toContain(b);
    const cancel = await env.run(['cancel', 'abcd', ...store]);
    expect(cancel.code).toBe(4);
    expect(cancel.stderr).toContain('Type more of the id');
    const unique = (await env.run(['forget', 'abcd2', ...store, '--json'])).json(
      ForgetOutputSchema,
    );
    expect(unique).toMatchObject({ requestId: b, removed: true });
  });
});

describe('messages', () => {
  it('a mistyped command with arguments gets "Did you mean submit?" and exit 127', async () => {
    const result = await env.run(['sumbit', T2I, '--set', 'prompt=x']);
    expect(result.code).toBe(127);
    expect(result.stderr).toContain('sumbit is not a falai command');
    expect(result.stderr).toContain('Did you mean submit?');
    const topic = await env.run(['confg', 'sett', 'store', 'memory']);
    expect(topic.stderr).toContain('Did you mean config set?');
  });

  it('wait and status without a request id name what is missing, never an internal argument', async () => {
    for (const command of ['wait', 'status', 'result', 'cancel']) {
      const result = await env.run([command]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `Missing the request id: falai ${command} [ENDPOINT] REQUEST-ID`,
      );
      expect(result.stderr).not.toMatch(/\bfirst\b/);
      const help = await env.run([command, '--help']);
      expect(help.stdout).not.toMatch(/\bFIRST\b|\bSECOND\b/);
      expect(help.stdout).toContain('REQUEST-ID');
    }
  });

  it('Ctrl-C in wait says how to resume, exits 130 and leaves the request pending', async () => {
    const { requestId } = await submit(['acme/slow', '{}']);
    let sent = false;
    let stderr = '';
    // With --logs, the model's first log line shows that wait is following the request.
    const result = await env.run(['wait', requestId, '--download', '--logs'], {
      onStderr: (chunk, child) => {
        stderr += chunk;
        if (!sent && stderr.includes('working')) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(result.code).toBe(130);
    expect(result.stderr).toContain(
      `Interrupted; request ${requestId} is still pending. Resume with: falai wait ${requestId} --download`,
    );
    const list = (await env.run(['list', '--json'])).json(ListOutputSchema);
    expect(list.requests.map((record) => record.requestId)).toContain(requestId);
    await stopSlow(requestId);
  });

  it('Ctrl-C in poll --watch prints the summary and the resume hint, exits 130', async () => {
    const store = ['--store', `file:${join(env.dir, 'watch.json')}`];
    const { requestId } = await submit(['acme/slow', '{}', ...store]);
    let sent = false;
    const checked = env.emulator!.stats.statusCalls;
    const result = await env.run(['poll', '--watch', '--interval', '100ms', ...store], {
      onSpawn: (child) => {
        // Once fal has been asked about the request, the first pass is under way.
        const timer = setInterval(() => {
          if (!sent && env.emulator!.stats.statusCalls > checked) {
            sent = true;
            clearInterval(timer);
            child.kill('SIGINT');
          }
        }, 20);
        child.on('close', () => clearInterval(timer));
      },
    });
    expect(result.code).toBe(130);
    expect(result.stdout).toContain('Nothing finished yet; 1 still pending.');
    expect(result.stderr).toContain('Interrupted; 1 request still pending');
    expect(result.stderr).toContain('Resume with: falai poll --watch');
    await stopSlow(requestId);
  });
});

describe('a key wrapped in quotes, as .env files write it', () => {
  it('is used without its quotes: check-key says so and a run reaches fal with the real key', async () => {
    const quoted = { env: { FAL_KEY: `"${FAL_KEY}"` } };
    const check = await env.run(['check-key', '--json'], quoted);
    expect(check.code).toBe(0);
    expect(check.json(CheckKeyOutputSchema).note).toMatch(/wrapped in quotes, which falai removed/);
    const human = await env.run(['check-key'], quoted);
    expect(human.stdout).toContain('Note: the key was wrapped in quotes');
    const run = await env.run(['run', T2I, '--set', 'prompt=quoted key', '--no-download'], {
      env: { FAL_KEY: `'${FAL_KEY}'` },
    });
    expect(run.code).toBe(0);
    for (const output of [check.stdout, human.stdout, run.stdout, run.stderr]) {
      expect(output).not.toContain(SECRET);
    }
  });
});
