import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUTH, completion, get, type Json, setup, submit, until } from './helpers.js';

let ctx: Awaited<ReturnType<typeof setup>>;
beforeEach(async () => {
  ctx = await setup({ sseKeepAliveMs: 20 });
});
afterEach(async () => {
  await ctx.stop();
});

/** Reads a whole SSE response; returns data events (parsed) and comment lines, in order. */
async function readStream(response: Response) {
  const text = await response.text();
  const items: Array<{ data: Json } | { comment: string }> = [];
  for (const block of text.split('\n\n')) {
    if (block.length === 0) continue;
    if (block.startsWith(':')) items.push({ comment: block });
    else if (block.startsWith('data: ')) items.push({ data: JSON.parse(block.slice(6)) });
    else throw new Error(`unexpected SSE block: ${block}`);
  }
  return items;
}

const dataOf = (items: Awaited<ReturnType<typeof readStream>>): Json[] =>
  items.flatMap((item) => ('data' in item ? [item.data] : []));

describe('status stream', () => {
  it('sends one event per change in order and closes after COMPLETED', async () => {
    const { emulator } = ctx;
    emulator.setModel('acme/painter', { queueMs: 300, runMs: 100 });
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' });
    const response = await get(`${job.status_url}/stream?logs=0`, { accept: 'text/event-stream' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('x-fal-request-id')).toBe(job.request_id);
    const events = dataOf(await readStream(response));
    expect(events.map((event) => event.status)).toEqual(['IN_QUEUE', 'IN_PROGRESS', 'COMPLETED']);
    expect(events[0]).toMatchObject({ queue_position: 0, request_id: job.request_id });
    expect(events[2]).toMatchObject({ logs: [], metrics: { inference_time: 0.1 } });
    expect(events[2].status_url).toBe(job.status_url);
    expect(emulator.stats.streamCalls).toBe(1);
  });

  it('sends only new log lines in each event with logs=1', async () => {
    const { emulator } = ctx;
    emulator.setModel('acme/painter', {
      queueMs: 0,
      runMs: 600,
      logs: [
        { message: 'a', atMs: 150 },
        { message: 'b', atMs: 300 },
        { message: 'c', atMs: 450 },
      ],
    });
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' });
    await until(() => emulator.job(job.request_id)?.status === 'IN_PROGRESS', 'start');
    const response = await get(
      `${emulator.url}/acme/painter/requests/${job.request_id}/status/stream?logs=1`,
    );
    const events = dataOf(await readStream(response));
    const messages = events.flatMap((event) => event.logs.map((log: Json) => log.message));
    // Each line appears once across all events: events carry only lines not yet sent.
    expect(messages).toEqual(['a', 'b', 'c']);
    expect(events.at(-1)?.status).toBe('COMPLETED');
    expect(events.length).toBeGreaterThan(1);
  });

  it('sends keep-alive comments while waiting', async () => {
    const { emulator } = ctx;
    emulator.setModel('acme/painter', { queueMs: 0, runMs: 200 });
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' });
    const items = await readStream(await get(`${job.status_url}/stream`));
    expect(items.some((item) => 'comment' in item && item.comment === ': ping')).toBe(true);
    expect(dataOf(items).at(-1)?.status).toBe('COMPLETED');
  });

  it('answers a completed job with one COMPLETED event, and 404 for an unknown id', async () => {
    const { emulator } = ctx;
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' });
    await completion(emulator, job.request_id);
    const events = dataOf(await readStream(await get(`${job.status_url}/stream`)));
    expect(events.map((event) => event.status)).toEqual(['COMPLETED']);
    const missing = await fetch(`${emulator.url}/acme/painter/requests/x/status/stream`, {
      headers: AUTH,
    });
    expect(missing.status).toBe(404);
  });

  it('ends open streams when the emulator closes', async () => {
    const { emulator } = ctx;
    emulator.setModel('acme/painter', { queueMs: 0, runMs: 60_000 });
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' });
    const response = await get(`${job.status_url}/stream`);
    const reading = response.text().catch(() => 'aborted');
    await emulator.close();
    const text = await reading;
    expect(text).not.toContain('COMPLETED');
    await expect(fetch(emulator.url)).rejects.toThrow();
  });
});
