import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { type IncomingMessage, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PendingRecord, PendingStore } from '@falai/core';
import { createMemoryStore, FalaiError } from '@falai/core';
import { newPendingRecord } from '@falai/core/internal';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GalleryData } from '../src/page.js';
import { type GalleryServer, serveGallery } from '../src/server.js';

let dir: string;
let store: PendingStore;
let server: GalleryServer;

async function completedRecord(id: string, at: string): Promise<PendingRecord> {
  const path = join(dir, 'out', `${id}-0.png`);
  await sharp({ create: { width: 32, height: 32, channels: 3, background: '#cc6633' } })
    .png()
    .toFile(path);
  const base = newPendingRecord({
    requestId: id,
    endpointId: 'fal-ai/nano-banana-pro',
    now: new Date(at),
  });
  return {
    ...base,
    status: 'completed',
    input: { fields: { prompt: `prompt of ${id}` }, files: [] },
    outputs: [{ url: `https://cdn.test/${id}.png`, path, mime: 'image/png' }],
  };
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

/** A raw request (no path normalisation, any Host header). */
function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, path, method, headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Opens the event stream; `next()` resolves with each event's parsed data. */
function events(): Promise<{
  readonly status: number;
  next(): Promise<{ version: string; items: number }>;
  close(): void;
}> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: '/events' }, (response) => {
      let buffer = '';
      const queue: { version: string; items: number }[] = [];
      const waiting: ((value: { version: string; items: number }) => void)[] = [];
      response.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (/^event: update$/m.test(block) && data) {
            const event = JSON.parse(data) as { version: string; items: number };
            const take = waiting.shift();
            if (take) take(event);
            else queue.push(event);
          }
          end = buffer.indexOf('\n\n');
        }
      });
      resolve({
        status: response.statusCode ?? 0,
        next: () =>
          new Promise((take) => {
            const ready = queue.shift();
            if (ready) take(ready);
            else waiting.push(take);
          }),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'falai-gallery-serve-'));
  await mkdir(join(dir, 'out'));
  store = createMemoryStore();
  await store.put(await completedRecord('first', '2026-03-01T10:00:00Z'));
  server = await serveGallery({
    outDir: join(dir, 'site'),
    load: () => store.list(),
    port: 0,
    intervalMs: 100,
    maxClients: 2,
  });
});
afterAll(async () => {
  await server?.close();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('serveGallery', () => {
  it('serves the live page and its index on 127.0.0.1', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body.toString()).toContain('"live":true');
    const index = await get('/index.json');
    const data = JSON.parse(index.body.toString()) as GalleryData;
    expect(data.live).toBe(true);
    expect(data.items.map((item) => item.id)).toEqual(['first']);
  });

  it('answers byte ranges, so video can seek and loop', async () => {
    const file = await readFile(join(dir, 'site', 'media', 'first-0.png'));
    const part = await get('/media/first-0.png', { range: 'bytes=0-9' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 0-9/${file.length}`);
    expect(part.body).toEqual(file.subarray(0, 10));
    const tail = await get('/media/first-0.png', { range: 'bytes=-4' });
    expect(tail.body).toEqual(file.subarray(file.length - 4));
    const beyond = await get('/media/first-0.png', { range: `bytes=${file.length}-` });
    expect(beyond.status).toBe(416);
    const head = await get('/media/first-0.png', {}, 'HEAD');
    expect(head.headers['content-length']).toBe(String(file.length));
    expect(head.body.length).toBe(0);
  });

  it('serves nothing outside the site, no dot files, no other methods or hosts', async () => {
    expect((await get('/../../../etc/passwd')).status).toBe(404);
    expect((await get('/media/..%2f..%2f..%2fetc%2fpasswd')).status).toBe(404);
    expect((await get('/.falai-gallery.json')).status).toBe(404);
    expect((await get('/nope.html')).status).toBe(404);
    expect((await get('/', {}, 'POST')).status).toBe(405);
    const rebound = await get('/', { host: `evil.test:${server.port}` });
    expect(rebound.status).toBe(421);
    expect((await get('/', { host: `localhost:${server.port}` })).status).toBe(200);
  });

  it('tells open pages when a job finishes, and keeps the number of listeners bounded', async () => {
    const stream = await events();
    expect(stream.status).toBe(200);
    const first = await stream.next();
    expect(first).toEqual({ version: server.summary.version, items: 1 });
    const second = await events();
    const third = await events();
    expect(third.status).toBe(503);
    third.close();

    await store.put(await completedRecord('second', '2026-03-02T10:00:00Z'));
    const update = await stream.next();
    expect(update.items).toBe(2);
    expect(update.version).not.toBe(first.version);
    const data = JSON.parse((await get('/index.json')).body.toString()) as GalleryData;
    expect(data.version).toBe(update.version);
    expect(data.items.map((item) => item.id)).toEqual(['second', 'first']);
    stream.close();
    second.close();
  });

  it('a port in use is a usage error that says what to do', async () => {
    const error = await serveGallery({
      outDir: join(dir, 'site-2'),
      load: () => store.list(),
      port: server.port,
    }).catch((e: unknown) => e);
    expect(FalaiError.isInstance(error)).toBe(true);
    expect((error as FalaiError).code).toBe('USAGE');
    expect((error as FalaiError).message).toMatch(/--port/);
  });
});
