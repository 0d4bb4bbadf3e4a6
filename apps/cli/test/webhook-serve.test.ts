import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InspectOutputSchema, type PendingRecord, type PendingStore } from '@falai/core';
import { newPendingRecord } from '@falai/core/internal';
import { type Emulator, pythonDumps } from '@falai/emulator';
import { createFileStore } from '@falai/store-file';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import WebhookServe, { type WebhookServeSummary } from '../src/commands/webhook/serve.js';
import { redisForTest, runCli } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENDPOINT = 'fal-ai/nano-banana-pro';

/** The command with its stop signal under the test's control instead of SIGINT. */
const stoppers: Array<() => void> = [];
class TestServe extends WebhookServe {
  protected override waitForStop(): Promise<void> {
    return new Promise((resolve) => stoppers.push(resolve));
  }
}

let emulator: Emulator | undefined;
let dir: string;
let stdout: string[];
let stderr: string[];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'falai-webhook-serve-'));
  stdout = [];
  stderr = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
  // oclif's `this.log` goes through console.log.
  vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => {
    stdout.push(`${parts.map(String).join(' ')}\n`);
  });
});
afterEach(async () => {
  for (const stop of stoppers.splice(0)) stop();
  vi.restoreAllMocks();
  await emulator?.close();
  emulator = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts `falai webhook serve` in-process and waits until it accepts connections. */
async function serve(args: string[]): Promise<{ url: string; done: Promise<unknown> }> {
  const port = await freePort();
  const done = TestServe.run(['--port', String(port), ...args], ROOT);
  done.catch(() => undefined);
  const url = `http://127.0.0.1:${port}/`;
  for (;;) {
    const ready = await fetch(url).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) break;
    const early = await Promise.race([
      done.then(() => 'ended'),
      new Promise((r) => setTimeout(r, 20)),
    ]);
    if (early === 'ended') throw new Error(`webhook serve ended early: ${stdout.join('')}`);
  }
  return { url, done };
}

async function submit(store: PendingStore, webhookUrl: string, count: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const response = await fetch(
        `${emulator!.url}/${ENDPOINT}?fal_webhook=${encodeURIComponent(webhookUrl)}`,
        {
          method: 'POST',
          headers: { authorization: 'Key test-id:test-secret', 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: `fox ${index}` }),
        },
      );
      const { request_id: requestId } = (await response.json()) as { request_id: string };
      await store.put(newPendingRecord({ requestId, endpointId: ENDPOINT, webhookUrl }));
      return requestId;
    }),
  );
}

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 25));
}

/** Deliveries the emulator saw answered 200 at `url` (it logs each after the answer). */
const acceptedAt = (url: string) =>
  emulator!.log.filter(
    (entry) => entry.kind === 'webhook-delivery' && entry.path === url && entry.status === 200,
  );

const jsonLines = () =>
  stdout
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('falai webhook serve', () => {
  it('finalises 100 jobs in a file store shared with the submitter, one JSON line per event', async () => {
    const { startEmulator } = await import('@falai/emulator');
    emulator = await startEmulator({
      port: 0,
      defaultLatency: { queueMs: [5, 30], runMs: [10, 60] },
      webhook: { retries: 10, retryDelayMs: 25 },
    });
    emulator.setModel(ENDPOINT, {
      output: { images: [{ url: 'https://example.invalid/fox.png' }] },
    });
    const path = join(dir, 'pending.json');
    const { url, done } = await serve([
      '--base-url',
      emulator.url,
      '--store',
      `file:${path}`,
      '--json',
    ]);

    const store = createFileStore({ path });
    const ids = await submit(store, url, 100);
    const finished = async () => {
      const records = await store.list({ status: 'completed' });
      return records.length === ids.length;
    };
    await until(finished);
    await store.close();

    stoppers.shift()!();
    const summary = (await done) as WebhookServeSummary;
    expect(summary).toMatchObject({ url, finalised: 100, rejected: 0, duplicates: 0 });

    const lines = jsonLines();
    expect(lines[0]).toMatchObject({
      event: 'listening',
      url,
      jwksUrl: `${emulator.url}/.well-known/jwks.json`,
    });
    const finalised = lines.filter((line) => line.event === 'finalised');
    expect(finalised).toHaveLength(100);
    expect(new Set(finalised.map((line) => line.requestId))).toEqual(new Set(ids));
    expect(lines.at(-1)).toMatchObject({ finalised: 100, url });

    const reopened = createFileStore({ path });
    const records: PendingRecord[] = await reopened.list();
    await reopened.close();
    expect(records).toHaveLength(100);
    expect(records.every((record) => record.status === 'completed')).toBe(true);
    expect(records[0]?.result).toEqual({ images: [{ url: 'https://example.invalid/fox.png' }] });
  });

  it('lets two receivers share one store: each request is finalised once, replays are duplicates', async () => {
    const { startEmulator } = await import('@falai/emulator');
    emulator = await startEmulator({
      port: 0,
      defaultLatency: { queueMs: [5, 30], runMs: [10, 40] },
      webhook: { retries: 10, retryDelayMs: 25 },
    });
    emulator.setModel(ENDPOINT, { output: { images: [{ url: 'https://example.invalid/f.png' }] } });
    const path = join(dir, 'pending.json');
    const shared = ['--base-url', emulator.url, '--store', `file:${path}`, '--json'];
    const a = await serve(shared);
    const b = await serve(shared);
    const store = createFileStore({ path });
    const ids = [...(await submit(store, a.url, 20)), ...(await submit(store, b.url, 20))];
    await until(async () => (await store.list({ status: 'completed' })).length === ids.length);

    // fal may deliver the same call twice, to any receiver: replay A's deliveries at B.
    await until(async () => acceptedAt(a.url).length === 20);
    const accepted = acceptedAt(a.url);
    const before = await store.list();
    const replies = await Promise.all(
      accepted.map(async (entry) => {
        const response = await fetch(b.url, {
          method: 'POST',
          headers: entry.headers,
          // The exact bytes fal signed: Python-style JSON, as the emulator sends it.
          body: pythonDumps(entry.body),
        });
        return (await response.json()) as { duplicate?: boolean };
      }),
    );
    expect(replies.every((reply) => reply.duplicate === true)).toBe(true);
    expect(await store.list()).toEqual(before);
    await store.close();

    for (const stop of stoppers.splice(0)) stop();
    const [summaryA, summaryB] = (await Promise.all([a.done, b.done])) as WebhookServeSummary[];
    expect(summaryA!.finalised + summaryB!.finalised).toBe(40);
    expect(summaryB!.duplicates).toBe(20);
    expect(summaryA!.rejected + summaryB!.rejected).toBe(0);
  });

  it('shares a Redis store between receivers on different ports', async (context) => {
    const redisUrl = await redisForTest('the shared Redis store receiver test');
    if (!redisUrl) return context.skip();
    const { startEmulator } = await import('@falai/emulator');
    const { createRedisStore } = await import('@falai/store-redis');
    emulator = await startEmulator({
      port: 0,
      defaultLatency: { queueMs: [5, 30], runMs: [10, 40] },
      webhook: { retries: 10, retryDelayMs: 25 },
    });
    emulator.setModel(ENDPOINT, { output: { images: [{ url: 'https://example.invalid/r.png' }] } });
    const prefix = `falai-webhook-test-${process.pid}-${Date.now()}`;
    const spec = `${redisUrl.replace(/\/$/, '')}/0?prefix=${prefix}`;
    const shared = ['--base-url', emulator.url, '--store', spec, '--json'];
    const a = await serve(shared);
    const b = await serve(shared);
    const store = createRedisStore({ url: `${redisUrl.replace(/\/$/, '')}/0`, prefix });
    try {
      const ids = [...(await submit(store, a.url, 15)), ...(await submit(store, b.url, 15))];
      await until(async () => (await store.list({ status: 'completed' })).length === ids.length);
      await until(async () => acceptedAt(b.url).length === 15);
      const accepted = acceptedAt(b.url);
      for (const entry of accepted) {
        const response = await fetch(a.url, {
          method: 'POST',
          headers: entry.headers,
          // The exact bytes fal signed: Python-style JSON, as the emulator sends it.
          body: pythonDumps(entry.body),
        });
        expect(await response.json()).toMatchObject({ ok: true, duplicate: true });
      }
      for (const stop of stoppers.splice(0)) stop();
      const summaries = (await Promise.all([a.done, b.done])) as WebhookServeSummary[];
      expect(summaries[0]!.finalised + summaries[1]!.finalised).toBe(30);
      expect(summaries[0]!.duplicates).toBe(15);
    } finally {
      for (const record of await store.list()) await store.remove(record.requestId);
      await store.close();
    }
  });

  it('downloads outputs with --download after answering, and rejects forged deliveries', async () => {
    const { startEmulator } = await import('@falai/emulator');
    emulator = await startEmulator({ port: 0, defaultLatency: { queueMs: 5, runMs: 20 } });
    const path = join(dir, 'pending.json');
    const out = join(dir, 'renders');
    const { url, done } = await serve([
      '--base-url',
      emulator.url,
      '--store',
      `file:${path}`,
      '--download',
      '--out',
      out,
    ]);
    const store = createFileStore({ path });
    const ids = await submit(store, url, 3);
    await until(async () => {
      const records = await Promise.all(ids.map((id) => store.get(id)));
      return records.every((record) => (record?.outputs?.length ?? 0) > 0);
    });
    const records = await Promise.all(ids.map((id) => store.get(id)));
    await store.close();
    const files = await readdir(out);
    for (const record of records) {
      expect(record?.status).toBe('completed');
      for (const output of record!.outputs!) {
        expect(output.path.startsWith(out)).toBe(true);
        expect(files).toContain(output.path.slice(out.length + 1));
        expect(output.size).toBeGreaterThan(0);
      }
    }

    const forged = await fetch(url, {
      method: 'POST',
      headers: {
        'x-fal-webhook-request-id': ids[0]!,
        'x-fal-webhook-user-id': 'u',
        'x-fal-webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'x-fal-webhook-signature': 'ab'.repeat(64),
      },
      body: JSON.stringify({ request_id: ids[0], status: 'ERROR', error: 'forged', payload: null }),
    });
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ ok: false, reason: 'bad-signature' });

    stoppers.shift()!();
    expect(await done).toMatchObject({ finalised: 3, downloaded: 3, rejected: 1 });
    const human = stdout.join('');
    expect(human).toContain(`Listening for fal webhooks on ${url}`);
    expect(stderr.join('')).toContain(`--webhook ${url}`);
    expect(stderr.join('')).toContain('rejected (401 bad-signature)');
    expect(human).toContain(`${ids[0]}  completed  ${ENDPOINT}`);
  });

  it('saves with --download through the lifecycle: falai inspect reads the provenance of a saved file', async () => {
    const { startEmulator } = await import('@falai/emulator');
    emulator = await startEmulator({ port: 0, defaultLatency: { queueMs: 5, runMs: 20 } });
    const path = join(dir, 'pending.json');
    const out = join(dir, 'renders');
    const { url, done } = await serve([
      '--base-url',
      emulator.url,
      '--store',
      `file:${path}`,
      '--download',
      '--out',
      out,
    ]);
    const store = createFileStore({ path });
    const [id] = await submit(store, url, 1);
    await until(async () => ((await store.get(id!))?.outputs?.length ?? 0) > 0);
    const record = (await store.get(id!))!;
    await store.close();
    stoppers.shift()!();
    expect(await done).toMatchObject({ finalised: 1, downloaded: 1 });

    // The record keeps what the file carries, and the size of the file as it is on disk.
    expect(record.provenance).toBeDefined();
    const [saved] = record.outputs!;
    expect(saved!.size).toBe((await stat(saved!.path)).size);

    const inspect = await runCli(
      ['inspect', saved!.path, '--json'],
      { cwd: dir },
      {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: join(dir, 'home'),
        XDG_CONFIG_HOME: join(dir, 'config'),
        XDG_STATE_HOME: join(dir, 'state'),
        FALAI_STORE: `file:${join(dir, 'another-store.json')}`,
        FALAI_BASE_URL: 'http://127.0.0.1:9',
        NO_COLOR: '1',
      },
    );
    expect(inspect.code, inspect.stderr).toBe(0);
    const shown = inspect.json(InspectOutputSchema);
    expect(shown.file).toBe(saved!.path);
    expect(shown.provenance.requestId).toBe(id);
    expect(shown.provenance.endpointId).toBe(ENDPOINT);
  });

  it('says an unknown request id is asked to retry during the grace period (human and --json)', async () => {
    const { startEmulator } = await import('@falai/emulator');
    emulator = await startEmulator({
      port: 0,
      defaultLatency: { queueMs: 5, runMs: 10 },
      webhook: { retries: 1, retryDelayMs: 10 },
    });
    const path = join(dir, 'pending.json');
    const shared = ['--base-url', emulator.url, '--store', `file:${path}`];
    const json = await serve([...shared, '--json']);
    const human = await serve(shared);
    const deliver = async (url: string) => {
      const response = await fetch(
        `${emulator!.url}/${ENDPOINT}?fal_webhook=${encodeURIComponent(url)}`,
        {
          method: 'POST',
          headers: { authorization: 'Key test-id:test-secret', 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: 'nobody recorded me' }),
        },
      );
      return ((await response.json()) as { request_id: string }).request_id;
    };
    const [jsonId, humanId] = [await deliver(json.url), await deliver(human.url)];
    const answered = (url: string) =>
      emulator!.log.filter((entry) => entry.kind === 'webhook-delivery' && entry.path === url);
    await until(async () => answered(json.url).length >= 2 && answered(human.url).length >= 2);
    expect(answered(json.url).every((entry) => entry.status === 404)).toBe(true);
    for (const stop of stoppers.splice(0)) stop();
    await Promise.all([json.done, human.done]);

    const unknown = jsonLines().filter((line) => line.event === 'unknown');
    expect(unknown.length).toBeGreaterThanOrEqual(2);
    expect(unknown.every((line) => line.requestId === jsonId && line.retrying === true)).toBe(true);
    const text = stderr.join('');
    expect(text).toContain(`${humanId}  not in the store yet; asked fal to retry`);
    expect(text).not.toContain('acknowledged and ignored');
  });

  it('explains a port that is already taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      await TestServe.run(['--port', String(port), '--store', 'memory'], ROOT);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
    expect(stderr.join('')).toContain(`Port ${port} on 127.0.0.1 is already in use`);
    expect(process.exitCode).not.toBe(0);
    process.exitCode = 0;
  });
});
