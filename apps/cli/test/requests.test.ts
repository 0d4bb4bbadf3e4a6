import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CancelOutputSchema,
  CheckKeyOutputSchema,
  DownloadOutputSchema,
  ErrorOutputSchema,
  ForgetOutputSchema,
  ListOutputSchema,
  PollOutputSchema,
  PruneOutputSchema,
  ResultOutputSchema,
  RunOutputSchema,
  StatusOutputSchema,
  SubmitOutputSchema,
  UploadOutputSchema,
  WaitOutputSchema,
} from '@falai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, redisForTest, SECRET, type TestEnv } from './helpers.js';

const T2I = 'fal-ai/nano-banana-pro';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  await env.close();
});

/** Everything the file store wrote: its snapshot and the journal beside it. */
async function storeText(): Promise<string> {
  const { readdir } = await import('node:fs/promises');
  const files = (await readdir(env.dir)).filter((name) => name.startsWith('pending.json'));
  return (await Promise.all(files.map((name) => readFile(join(env.dir, name), 'utf8')))).join('\n');
}

async function submit(args: readonly string[], options = {}) {
  const result = await env.run(['submit', ...args, '--json'], options);
  if (result.code !== 0)
    throw new Error(`submit failed (${result.code}): ${result.stdout}${result.stderr}`);
  return result.json(SubmitOutputSchema);
}

describe('submit', () => {
  it('submits JSON input, records it and prints the request id', async () => {
    const human = await env.run(['submit', T2I, '{"prompt":"a lighthouse at dusk"}']);
    expect(human.code).toBe(0);
    const requestId = human.stdout.trim();
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(env.emulator!.job(requestId)?.input).toEqual({ prompt: 'a lighthouse at dusk' });
    const list = (await env.run(['list', '--all', '--json'])).json(ListOutputSchema);
    expect(list.requests.map((record) => record.requestId)).toContain(requestId);
    const store = await storeText();
    expect(store).toContain(requestId);
    expect(store).not.toContain(SECRET);
  });

  it('accepts @file.json, stdin and --set coerced by the schema', async () => {
    const file = join(env.dir, 'input.json');
    await writeFile(file, JSON.stringify({ prompt: 'from a file' }));
    const fromFile = await submit([T2I, `@${file}`]);
    expect(env.emulator!.job(fromFile.requestId)?.input).toEqual({ prompt: 'from a file' });

    const fromStdin = await submit([T2I, '-'], { stdin: '{"prompt":"from stdin"}' });
    expect(env.emulator!.job(fromStdin.requestId)?.input).toEqual({ prompt: 'from stdin' });

    const withSets = await submit([T2I, '--set', 'prompt=a cat', '--set', 'num_images=2']);
    expect(withSets.request_id).toBe(withSets.requestId);
    expect(env.emulator!.job(withSets.requestId)?.input).toEqual({
      prompt: 'a cat',
      num_images: 2,
    });
  });

  it('--set image_urls=./a.png sends a local file as a data URI and stores only its path', async () => {
    const png = join(env.dir, 'a.png');
    await writeFile(
      png,
      Buffer.from(
        'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==',
        'base64',
      ),
    );
    const out = await submit([
      'fal-ai/nano-banana-pro/edit',
      '--set',
      'prompt=snow',
      '--set',
      'image_urls=./a.png',
    ]);
    const sent = env.emulator!.job(out.requestId)?.input as { image_urls: string[] };
    expect(sent.image_urls).toHaveLength(1);
    expect(sent.image_urls[0]).toMatch(/^data:image\/png;base64,/);
    // The record, read through the store, names the file; no byte of it is stored anywhere.
    const list = (await env.run(['list', '--all', '--json'])).json(ListOutputSchema);
    const record = list.requests.find((item) => item.requestId === out.requestId);
    expect(record?.input?.files).toMatchObject([
      { field: 'image_urls.0', kind: 'path', location: join(env.dir, 'a.png'), sentAs: 'data-uri' },
    ]);
    const store = await storeText();
    expect(store).toContain('a.png');
    expect(store).not.toContain('base64,iVBOR');
  });

  it('--webhook is passed to fal', async () => {
    const out = await submit([T2I, '--set', 'prompt=hook', '--webhook', 'http://127.0.0.1:9/hook']);
    expect(out.webhookUrl).toBe('http://127.0.0.1:9/hook');
    expect(env.emulator!.job(out.requestId)?.webhookUrl).toBe('http://127.0.0.1:9/hook');
  });

  it('malformed JSON exits 4 with a clear message', async () => {
    const result = await env.run(['submit', T2I, '{"prompt":']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^Error: Invalid JSON/);
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('a missing required field exits 4 with the seed-like message, and nothing is submitted', async () => {
    const before = env.emulator!.jobs().length;
    const result = await env.run([
      'submit',
      'fal-ai/kling-video/o3/pro/video-to-video/edit',
      '{"prompt":"snow"}',
    ]);
    expect(result.code).toBe(4);
    // Exactly the seed-like block: "❌ Validation failed" and the issue each once.
    expect(result.stderr).toBe(
      [
        'Error: Invalid input for fal-ai/kling-video/o3/pro/video-to-video/edit:',
        '❌ Validation failed:',
        '   - Missing required field: video_url (add "video_url": "./clip.mp4")',
        '',
      ].join('\n'),
    );
    const json = await env.run([
      'submit',
      'fal-ai/kling-video/o3/pro/video-to-video/edit',
      '{"prompt":"snow"}',
      '--json',
    ]);
    const error = json.json(ErrorOutputSchema).error;
    expect(error.code).toBe('INPUT_INVALID');
    expect(JSON.stringify(error.details)).toContain('video_url');
    expect(env.emulator!.jobs().length).toBe(before);
  });

  it('an unknown model is refused with --strict and allowed (unvalidated) without', async () => {
    // A model fal serves that falai has no definition for: the strict emulator knows it only
    // through setModel (an id fal does not know at all is a 404 at submit).
    env.emulator!.setModel('acme/unknown-model', {});
    const strict = await env.run([
      'submit',
      'acme/unknown-model',
      '{"prompt":"x"}',
      '--strict',
      '--json',
    ]);
    expect(strict.code).toBe(4);
    expect(strict.json(ErrorOutputSchema).error.code).toBe('MODEL_UNKNOWN');
    const loose = await env.run(['submit', 'acme/unknown-model', '{"prompt":"x"}']);
    expect(loose.code).toBe(0);
    expect(loose.stderr).toMatch(/not validated|no model definition|unknown/i);
  });

  it('a nonexistent local file exits 4', async () => {
    const result = await env.run([
      'submit',
      'fal-ai/nano-banana-pro/edit',
      '--set',
      'prompt=x',
      '--set',
      'image_urls=./missing.png',
    ]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/missing\.png/);
  });

  it('a store that cannot be read stops the submit before anything is paid for (exit 7)', async () => {
    const submits = () => env.emulator!.log.filter((entry) => entry.kind === 'submit').length;
    const before = submits();
    const result = await env.run(['submit', T2I, '--set', 'prompt=unrecorded', '--json'], {
      env: { FALAI_STORE: 'file:/dev/null/pending.json' },
    });
    expect(result.code).toBe(7);
    const error = result.json(ErrorOutputSchema).error;
    expect(error.code).toBe('STORE_ERROR');
    expect(error.message).toContain('/dev/null/pending.json');
    expect(submits()).toBe(before);
  });

  it('no key exits 3 listing the sources', async () => {
    const result = await env.run(['submit', T2I, '{"prompt":"x"}'], {
      env: { FAL_KEY: undefined },
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/No FAL_KEY found/);
  });
});

describe('check-key --verify', () => {
  it('asks fal whether the key is accepted', async () => {
    const ok = await env.run(['check-key', '--verify', '--json']);
    expect(ok.code).toBe(0);
    expect(ok.json(CheckKeyOutputSchema)).toMatchObject({ verified: true });
    const { startEmulator } = await import('@falai/emulator');
    const strict = await startEmulator({
      port: 0,
      keys: { accept: ['someone-else:secret-value'] },
    });
    try {
      const rejected = await env.run(['check-key', '--verify', '--json'], {
        env: { FALAI_BASE_URL: strict.url },
      });
      expect(rejected.code).toBe(3);
      expect(rejected.json(ErrorOutputSchema).error.code).toBe('AUTH_REJECTED');
    } finally {
      await strict.close();
    }
  });
});

describe('status, result, wait', () => {
  it('status works as `status <id>` and `status <endpoint> <id>`', async () => {
    const { requestId } = await submit([T2I, '--set', 'prompt=status']);
    const short = await env.run(['status', requestId, '--json']);
    expect(short.code).toBe(0);
    const parsed = short.json(StatusOutputSchema);
    expect(parsed.requestId).toBe(requestId);
    expect(parsed.recorded).toBe(true);
    const long = await env.run(['status', T2I, requestId, '--json']);
    expect(long.json(StatusOutputSchema).endpointId).toBe(T2I);
    const human = await env.run(['status', requestId]);
    expect(human.stdout).toContain(requestId);
  });

  it('status of an id the store does not know, without an endpoint, exits 4 and says what to pass', async () => {
    const result = await env.run(['status', 'not-a-known-id']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/falai status <endpoint> not-a-known-id/);
  });

  it('wait blocks until completion, then result reads it (both argument shapes)', async () => {
    const { requestId } = await submit([T2I, '--set', 'prompt=wait']);
    const waited = await env.run(['wait', requestId, '--json']);
    expect(waited.code).toBe(0);
    const output = waited.json(WaitOutputSchema);
    expect(output.status).toBe('completed');
    expect(JSON.stringify(output.result)).toContain('images');
    const result = (await env.run(['result', requestId, '--json'])).json(ResultOutputSchema);
    expect(result.result).toEqual(output.result);
    const long = await env.run(['result', T2I, requestId, '--json']);
    expect(long.json(ResultOutputSchema).requestId).toBe(requestId);
  });

  it('a request that completes with a 422 exits 4 from result with the field errors', async () => {
    env.emulator!.setModel('acme/strict-model', {
      completeWithError: {
        status: 422,
        body: {
          detail: [{ loc: ['body', 'prompt'], msg: 'field required', type: 'value_error.missing' }],
        },
      },
    });
    const { requestId } = await submit(['acme/strict-model', '{}']);
    const waited = await env.run(['wait', requestId, '--json']);
    expect(waited.code).toBe(4);
    expect(JSON.stringify(waited.json(ErrorOutputSchema).error)).toContain('prompt');
    const list = (await env.run(['list', '--all', '--status', 'failed', '--json'])).json(
      ListOutputSchema,
    );
    expect(list.requests.map((record) => record.requestId)).toContain(requestId);
  });

  it('a request that fails on the server exits 6', async () => {
    env.emulator!.setModel('acme/broken-model', {
      completeWithError: {
        status: 500,
        detail: 'runner crashed',
        error_type: 'runner_disconnected',
      },
    });
    const { requestId } = await submit(['acme/broken-model', '{}']);
    const waited = await env.run(['wait', requestId]);
    expect(waited.code).toBe(6);
    expect(waited.stderr).toMatch(/^Error: /);
  });
});

describe('poll and list', () => {
  it('poll finalises several pending requests once and keeps the seed keys', async () => {
    await env.run(['prune', '--stuck', '0s']);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++)
      ids.push((await submit([T2I, '--set', `prompt=poll ${i}`])).requestId);
    const pending = (await env.run(['list', '--json'])).json(ListOutputSchema);
    expect(pending.count).toBeGreaterThanOrEqual(4);
    const polled = await env.run(['poll', '--watch', '--interval', '100ms', '--json']);
    expect(polled.code).toBe(0);
    const output = polled.json(PollOutputSchema);
    expect(output.count).toBe(output.completed.length);
    expect(output.completed.map((item) => item.requestId)).toEqual(expect.arrayContaining(ids));
    expect(output.pending).toBe(0);
    const again = (await env.run(['poll', '--json'])).json(PollOutputSchema);
    expect(again.count).toBe(0);
    const remaining = (await env.run(['list', '--json'])).json(ListOutputSchema);
    expect(remaining.count).toBe(0);
    const done = (
      await env.run(['list', '--all', '--status', 'completed', '--endpoint', T2I, '--json'])
    ).json(ListOutputSchema);
    expect(done.requests.map((record) => record.requestId)).toEqual(expect.arrayContaining(ids));
  });

  it('poll --download saves the outputs', async () => {
    const { requestId } = await submit([T2I, '--set', 'prompt=poll download']);
    const out = join(env.dir, 'poll-out');
    const polled = await env.run([
      'poll',
      '--watch',
      '--interval',
      '100ms',
      '--download',
      '--out',
      out,
      '--json',
    ]);
    const item = polled
      .json(PollOutputSchema)
      .completed.find((entry) => entry.requestId === requestId);
    expect(item?.outputs?.[0]?.path).toBe(join(out, `${requestId}-0.png`));
  });

  it('transient errors leave requests pending for the next pass', async () => {
    const { requestId } = await submit([T2I, '--set', 'prompt=flaky']);
    const remove = env.emulator!.inject({
      match: { kind: 'status' },
      action: { type: 'status', status: 503 },
    });
    const polled = await env.run(['poll', '--json']);
    remove();
    const output = polled.json(PollOutputSchema);
    expect(output.errors.map((entry) => entry.requestId)).toContain(requestId);
    const list = (await env.run(['list', '--json'])).json(ListOutputSchema);
    const record = list.requests.find((entry) => entry.requestId === requestId);
    expect(record?.attempts.errors).toBeGreaterThan(0);
    const later = (await env.run(['poll', '--watch', '--interval', '100ms', '--json'])).json(
      PollOutputSchema,
    );
    expect(later.completed.map((entry) => entry.requestId)).toContain(requestId);
  });
});

describe('run and download', () => {
  it('run produces a real PNG file and prints its path', async () => {
    const out = join(env.dir, 'run-out');
    const result = await env.run([
      'run',
      T2I,
      '--set',
      'prompt=a lighthouse at dusk',
      '--out',
      out,
    ]);
    expect(result.code).toBe(0);
    const path = result.stdout.trim().split('\n').at(-1)!;
    expect(path.startsWith(out)).toBe(true);
    const bytes = await readFile(path);
    expect(bytes.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    const json = await env.run(['run', T2I, '--set', 'prompt=json run', '--out', out, '--json']);
    const output = json.json(RunOutputSchema);
    expect(output.outputs[0]?.size).toBe((await stat(output.outputs[0]!.path)).size);
  });

  it('download refuses to overwrite without --force and replaces with it', async () => {
    const out = join(env.dir, 'dl-out');
    const { requestId } = await submit([T2I, '--set', 'prompt=download']);
    await env.run(['wait', requestId]);
    const first = await env.run(['download', requestId, '--out', out, '--json']);
    expect(first.code).toBe(0);
    const saved = first.json(DownloadOutputSchema).outputs;
    expect(saved[0]?.path).toBe(join(out, `${requestId}-0.png`));
    // The same files again are "already downloaded" (friction.test.ts); another file is refused.
    await writeFile(saved[0]!.path, 'something else');
    const again = await env.run(['download', requestId, '--out', out, '--json']);
    expect(again.code).toBe(8);
    expect(again.json(ErrorOutputSchema).error.code).toBe('OUTPUT_EXISTS');
    const forced = await env.run(['download', requestId, '--out', out, '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout.trim()).toBe(saved[0]?.path);
  });

  it('a download whose size differs from the result is refused and leaves no file', async () => {
    const source = join(env.dir, 'source.bin');
    await writeFile(source, Buffer.alloc(1000, 1));
    const uploaded = (await env.run(['upload', source, '--json'])).json(UploadOutputSchema);
    env.emulator!.setModel('acme/liar', {
      output: { images: [{ url: uploaded.url, content_type: 'image/png', file_size: 5000 }] },
    });
    const out = join(env.dir, 'liar-out');
    const result = await env.run(['run', 'acme/liar', '{}', '--out', out, '--json']);
    expect(result.code).toBe(5);
    const error = result.json(ErrorOutputSchema).error;
    expect(error.code).toBe('NETWORK_ERROR');
    expect(error.message).toMatch(/1000 bytes.*file_size 5000/);
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });

  it('Ctrl-C without a terminal leaves the request pending, says how to resume, exits 130', async () => {
    env.emulator!.setModel('acme/slow-model', { runMs: 60_000, cancelAware: true });
    let sent = false;
    const result = await env.run(['run', 'acme/slow-model', '{"prompt":"slow"}'], {
      onStderr: (chunk, child) => {
        if (!sent && /Submitted/.test(chunk)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(result.code).toBe(130);
    const match = /falai wait ([0-9a-f-]{36})/.exec(result.stderr);
    expect(match).not.toBeNull();
    const list = (await env.run(['list', '--json'])).json(ListOutputSchema);
    expect(list.requests.map((record) => record.requestId)).toContain(match![1]);
    const cancelled = await env.run(['cancel', match![1]!, '--json']);
    expect(cancelled.json(CancelOutputSchema).status).toBe('cancelled');
  });
});

describe('other stores', () => {
  it('--store sqlite:<path> keeps requests in SQLite', async () => {
    const store = `sqlite:${join(env.dir, 'pending.db')}`;
    const { requestId } = await submit([T2I, '--set', 'prompt=sqlite', '--store', store]);
    const list = (await env.run(['list', '--store', store, '--json'])).json(ListOutputSchema);
    expect(list.requests.map((record) => record.requestId)).toEqual([requestId]);
    expect(list.store).toContain('pending.db');
    const waited = await env.run(['wait', requestId, '--store', store, '--json']);
    expect(waited.json(WaitOutputSchema).recorded).toBe(true);
    const fileList = (await env.run(['list', '--all', '--json'])).json(ListOutputSchema);
    expect(fileList.requests.map((record) => record.requestId)).not.toContain(requestId);
  });

  it('a redis:// store is shared by every process (skipped without Redis)', async (context) => {
    const url = await redisForTest('the redis:// store CLI test');
    if (!url) return context.skip();
    const prefix = `falai-cli-test-${Date.now().toString(36)}`;
    const store = `${url}/0?prefix=${prefix}`;
    const { requestId } = await submit([T2I, '--set', 'prompt=redis', '--store', store]);
    const polled = (
      await env.run(['poll', '--watch', '--interval', '100ms', '--store', store, '--json'])
    ).json(PollOutputSchema);
    expect(polled.completed.map((item) => item.requestId)).toEqual([requestId]);
    const forgot = (await env.run(['forget', requestId, '--store', store, '--json'])).json(
      ForgetOutputSchema,
    );
    expect(forgot.removed).toBe(true);
  });
});

describe('cancel, forget, prune, upload', () => {
  it('cancel asks fal and marks the record cancelled', async () => {
    env.emulator!.setModel('acme/slow-cancel', { queueMs: 60_000 });
    const { requestId } = await submit(['acme/slow-cancel', '{}']);
    const result = await env.run(['cancel', requestId, '--json']);
    expect(result.code).toBe(0);
    const output = result.json(CancelOutputSchema);
    expect(output.outcome).toBe('cancellation-requested');
    expect(output.status).toBe('cancelled');
    expect(env.emulator!.job(requestId)?.cancelled).toBe(true);
  });

  it('cancel of a running app that ignores it keeps the record pending; wait then records the output', async () => {
    env.emulator!.setModel('acme/stubborn', { queueMs: 0, runMs: 4000 });
    const { requestId } = await submit(['acme/stubborn', '{}']);
    for (;;) {
      const status = await env.run(['status', requestId, '--json']);
      if (status.json(StatusOutputSchema).status === 'running') break;
    }
    const result = await env.run(['cancel', requestId, '--json']);
    expect(result.code).toBe(0);
    const output = result.json(CancelOutputSchema);
    expect(output).toMatchObject({ outcome: 'cancellation-requested', status: 'running' });
    expect(output.cancelRequestedAt).toMatch(/^\d{4}-/);
    const human = await env.run(['list', '--json']);
    const pending = human.json(ListOutputSchema).requests.find((r) => r.requestId === requestId);
    expect(pending?.status).toBe('running');

    const waited = await env.run(['wait', requestId, '--json']);
    expect(waited.code).toBe(0);
    expect(waited.json(WaitOutputSchema).recorded).toBe(true);
    const after = (await env.run(['list', '--all', '--json'])).json(ListOutputSchema);
    expect(after.requests.find((r) => r.requestId === requestId)?.status).toBe('completed');
  });

  it('cancel of an id fal does not know is a NOT_FOUND error (exit 5), in or out of the store', async () => {
    const unknown = '00000000-0000-4000-8000-00000000dead';
    const result = await env.run(['cancel', T2I, unknown, '--json']);
    expect(result.code).toBe(5);
    const error = result.json(ErrorOutputSchema);
    expect(error.error.code).toBe('NOT_FOUND');
    expect(error.error.message).toContain('check the endpoint and the request id');

    // The store knows it but fal does not (here: asked at another endpoint): nothing is marked.
    const { requestId } = await submit([T2I, '--set', 'prompt=elsewhere']);
    const before = (await env.run(['list', '--all', '--json'])).json(ListOutputSchema);
    const wrong = await env.run(['cancel', 'acme/other-endpoint', requestId]);
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toContain('fal no longer knows');
    expect(wrong.stderr).toContain(`falai forget ${requestId}`);
    const after = (await env.run(['list', '--all', '--json'])).json(ListOutputSchema);
    expect(after.requests.find((r) => r.requestId === requestId)).toEqual(
      before.requests.find((r) => r.requestId === requestId),
    );
  });

  it('forget removes a record; forgetting again is not an error', async () => {
    const { requestId } = await submit([T2I, '--set', 'prompt=forget me']);
    const first = (await env.run(['forget', requestId, '--json'])).json(ForgetOutputSchema);
    expect(first.removed).toBe(true);
    const second = await env.run(['forget', requestId, '--json']);
    expect(second.code).toBe(0);
    expect(second.json(ForgetOutputSchema).removed).toBe(false);
  });

  it('prune removes finished records, --stuck removes old pending ones, --dry-run changes nothing', async () => {
    env.emulator!.setModel('acme/stuck', { queueMs: 60_000 });
    const { requestId } = await submit(['acme/stuck', '{}']);
    // Completed records never downloaded are kept by default (friction.test.ts); here all go.
    const dry = (
      await env.run([
        'prune',
        '--older-than',
        '0s',
        '--dry-run',
        '--include-undownloaded',
        '--json',
      ])
    ).json(PruneOutputSchema);
    expect(dry.dryRun).toBe(true);
    const all = (await env.run(['list', '--all', '--json'])).json(ListOutputSchema);
    const finished = all.requests.filter(
      (record) => record.status !== 'queued' && record.status !== 'running',
    );
    expect(dry.count).toBe(finished.length);
    const pruned = (
      await env.run(['prune', '--older-than', '0s', '--include-undownloaded', '--json'])
    ).json(PruneOutputSchema);
    expect(pruned.count).toBe(finished.length);
    expect(
      (await env.run(['list', '--all', '--json']))
        .json(ListOutputSchema)
        .requests.map((r) => r.requestId),
    ).toContain(requestId);
    const stuck = (await env.run(['prune', '--stuck', '0s', '--json'])).json(PruneOutputSchema);
    expect(stuck.removed.map((entry) => entry.requestId)).toContain(requestId);
  });

  it('upload sends a file to fal storage and prints its URL', async () => {
    const path = join(env.dir, 'upload.bin');
    await writeFile(path, Buffer.alloc(4096, 7));
    const result = await env.run(['upload', path, '--json']);
    expect(result.code).toBe(0);
    const output = result.json(UploadOutputSchema);
    expect(output.size).toBe(4096);
    const fetched = await fetch(output.url);
    expect(Buffer.from(await fetched.arrayBuffer()).equals(Buffer.alloc(4096, 7))).toBe(true);
  });
});
