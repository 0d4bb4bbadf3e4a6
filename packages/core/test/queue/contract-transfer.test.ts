import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortedError,
  FalaiError,
  InputError,
  MediaError,
  NetworkError,
} from '../../src/errors/index.js';
import { createFalClient, downloadOutputs } from '../../src/queue/index.js';
import {
  type HostileServer,
  readAll,
  sendRaw,
  sleep,
  startHostileServer,
} from './hostile-server.js';

/**
 * Uploads and downloads on slow, stalled and hostile links (issue #11 items 4, 8 and 10),
 * against a node:http server on 127.0.0.1 that reads and writes at the pace each test sets.
 */

const KEY = 'transfer-id:transfer-secret-0000';
const ID = '80e732af-660e-45cd-bd63-580e4f2a94cc';
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const JPEG = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]),
  Buffer.alloc(500, 7),
  Buffer.from([0xff, 0xd9]),
]);

let server: HostileServer;
let dir: string;

beforeAll(async () => {
  server = await startHostileServer();
});
afterEach(async () => {
  server.seen.length = 0;
  if (dir) await rm(dir, { recursive: true, force: true });
});
afterAll(async () => {
  await server.close();
});

async function caught(promise: Promise<unknown>): Promise<FalaiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(FalaiError.isInstance(error)).toBe(true);
  return error as FalaiError;
}

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Stops reading a request after `bytes` and never answers: a stalled upload. */
function stallAfter(req: IncomingMessage, bytes: number): void {
  let got = 0;
  req.on('data', (chunk: Buffer) => {
    got += chunk.length;
    if (got >= bytes) req.pause();
  });
}

describe('uploads: an idle limit, no total limit (#4)', () => {
  /** fal's storage protocol (§9) on the hostile server; `put` shapes each PUT. */
  function storage(
    put: (req: IncomingMessage, res: ServerResponse, part: string | undefined) => Promise<void>,
  ) {
    const completed: unknown[] = [];
    server.handler = async (req, res) => {
      const url = new URL(req.url ?? '/', server.url);
      if (url.pathname === '/storage/upload/initiate') {
        await readAll(req);
        sendRaw(
          res,
          200,
          JSON.stringify({
            upload_url: `${server.url}/up/one?sig=1`,
            file_url: `${server.url}/files/one`,
          }),
        );
        return;
      }
      if (url.pathname === '/storage/upload/initiate-multipart') {
        await readAll(req);
        sendRaw(
          res,
          200,
          JSON.stringify({
            upload_url: `${server.url}/up/multi?sig=2`,
            file_url: `${server.url}/files/multi`,
          }),
        );
        return;
      }
      if (url.pathname === '/up/multi/complete') {
        completed.push(JSON.parse((await readAll(req)).toString()));
        sendRaw(res, 200, '{}');
        return;
      }
      const part = /^\/up\/multi\/(\d+)$/.exec(url.pathname)?.[1];
      await put(req, res, part);
    };
    return completed;
  }

  it('a slow but steady PUT succeeds although it takes longer than the idle timeout', async () => {
    const bytes = Buffer.alloc(24 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i / 4096) & 0xff;
    let pauses = 0;
    let received = createHash('sha256');
    let size = 0;
    storage(async (req, res) => {
      received = createHash('sha256');
      size = 0;
      let sinceSleep = 0;
      for await (const chunk of req) {
        received.update(chunk as Buffer);
        size += (chunk as Buffer).length;
        sinceSleep += (chunk as Buffer).length;
        if (sinceSleep >= 1024 * 1024) {
          sinceSleep = 0;
          pauses++;
          await sleep(100);
        }
      }
      res.writeHead(200).end();
    });
    // Every call of this client would time out after 1 s in total; the upload must not.
    const client = createFalClient({
      credentials: KEY,
      baseUrl: server.url,
      timeoutMs: 1000,
      uploadIdleTimeoutMs: 1000,
    });
    const uploaded = await client.upload(bytes, { contentType: 'image/png' });
    expect(uploaded).toEqual({
      url: `${server.url}/files/one`,
      size: bytes.length,
      contentType: 'image/png',
    });
    expect(size).toBe(bytes.length);
    expect(received.digest('hex')).toBe(sha(bytes));
    // By construction the server spent at least 20 × 100 ms reading: twice the limit.
    expect(pauses).toBeGreaterThanOrEqual(20);
    expect(server.seen.filter((r) => r.method === 'PUT')).toHaveLength(1);
  });

  it('retries a part that stalled mid-body, and the file arrives whole', async () => {
    const bytes = Buffer.alloc(700 * 1024, 3);
    bytes.write('start', 0);
    const parts = new Map<string, Buffer>();
    let stalls = 0;
    const completed = storage(async (req, res, part) => {
      if (part === '2' && stalls === 0) {
        stalls++;
        stallAfter(req, 64 * 1024);
        return;
      }
      const body = await readAll(req);
      parts.set(part ?? '?', body);
      sendRaw(
        res,
        200,
        JSON.stringify({ partNumber: Number(part), etag: `etag-${part}-${sha(body).slice(0, 8)}` }),
      );
    });
    const client = createFalClient({
      credentials: KEY,
      baseUrl: server.url,
      timeoutMs: 300,
      uploadIdleTimeoutMs: 300,
      retry: { upload: { baseDelayMs: 5, maxDelayMs: 10 } },
    });
    const uploaded = await client.upload(bytes, {
      multipartThresholdBytes: 100 * 1024,
      partSizeBytes: 256 * 1024,
    });
    expect(uploaded.url).toBe(`${server.url}/files/multi`);
    const puts = server.seen.filter((r) => r.method === 'PUT').map((r) => r.path);
    expect(puts).toEqual([
      '/up/multi/1?sig=2',
      '/up/multi/2?sig=2',
      '/up/multi/2?sig=2',
      '/up/multi/3?sig=2',
    ]);
    expect(Buffer.concat([parts.get('1')!, parts.get('2')!, parts.get('3')!]).equals(bytes)).toBe(
      true,
    );
    expect(completed).toEqual([
      {
        parts: [1, 2, 3].map((n) => ({
          partNumber: n,
          etag: `etag-${n}-${sha(parts.get(String(n))!).slice(0, 8)}`,
        })),
      },
    ]);
  });

  it('a part that stalls on every attempt fails with a clear NETWORK_ERROR', async () => {
    storage(async (req, res, part) => {
      if (part === '1') {
        stallAfter(req, 1024);
        return;
      }
      await readAll(req);
      sendRaw(res, 200, '{"etag":"x"}');
    });
    const client = createFalClient({
      credentials: KEY,
      baseUrl: server.url,
      uploadIdleTimeoutMs: 300,
      retry: { upload: { maxRetries: 1, baseDelayMs: 5, maxDelayMs: 10 } },
    });
    const error = await caught(
      client.upload(Buffer.alloc(300 * 1024, 1), {
        multipartThresholdBytes: 100 * 1024,
        partSizeBytes: 128 * 1024,
      }),
    );
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toBe(
      'upload part 1 of 3 stalled: nothing was sent or received for 300 ms (2 attempts). Check your connection and try again, or raise the upload idle timeout (uploadIdleTimeoutMs).',
    );
    expect(error.details).toEqual({ code: 'STALLED', idleTimeoutMs: 300, attempts: 2 });
    expect(server.seen.filter((r) => r.method === 'PUT')).toHaveLength(2);
  });

  it('a single PUT that stalls is retried too (pre-signed PUTs are idempotent)', async () => {
    let attempts = 0;
    storage(async (req, res) => {
      attempts++;
      if (attempts === 1) {
        stallAfter(req, 1024);
        return;
      }
      await readAll(req);
      res.writeHead(200, { 'content-type': 'application/xml' }).end('<ok/>');
    });
    const client = createFalClient({
      credentials: KEY,
      baseUrl: server.url,
      uploadIdleTimeoutMs: 300,
      retry: { upload: { baseDelayMs: 5, maxDelayMs: 10 } },
    });
    const uploaded = await client.upload(Buffer.alloc(200 * 1024, 2), { idleTimeoutMs: 300 });
    expect(uploaded.size).toBe(200 * 1024);
    expect(attempts).toBe(2);
  });
});

describe('downloads: idle limit, size cap, abort, no stray files (#4, #8, #10)', () => {
  async function outDir(): Promise<string> {
    dir = await mkdtemp(join(tmpdir(), 'falai-transfer-'));
    return join(dir, 'out');
  }

  /** A CDN answering `/cdn/<name>` from `files`; anything else goes to `other`. */
  function cdn(
    files: Record<string, Buffer>,
    other?: (req: IncomingMessage, res: ServerResponse) => void,
  ): void {
    server.handler = (req, res) => {
      const name = /^\/cdn\/([^?]+)/.exec(req.url ?? '')?.[1];
      const body = name ? files[name] : undefined;
      if (body) {
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': String(body.length),
        });
        res.end(body);
        return;
      }
      if (other) other(req, res);
      else res.writeHead(404).end();
    };
  }

  it('names files from their bytes, inside the folder, whatever fal calls them', async () => {
    const out = await outDir();
    cdn({ a: JPEG, b: PNG });
    const result = {
      images: [
        { url: `${server.url}/cdn/a`, content_type: 'image/png', file_name: '../../evil.sh' },
        {
          url: `${server.url}/cdn/b?name=../../x.exe`,
          content_type: 'application/x-sh',
          file_name: '/etc/passwd',
        },
      ],
      video: { url: `data:video/mp4;base64,${PNG.toString('base64')}`, file_name: '..\\..\\v.mp4' },
    };
    const saved = await downloadOutputs({ requestId: ID, result, outDir: out });
    expect(saved).toEqual([
      {
        url: `${server.url}/cdn/a`,
        path: join(out, `${ID}-0.jpg`),
        size: JPEG.length,
        mime: 'image/jpeg',
      },
      {
        url: `${server.url}/cdn/b?name=../../x.exe`,
        path: join(out, `${ID}-1.png`),
        size: PNG.length,
        mime: 'image/png',
      },
      { url: 'data:', path: join(out, `${ID}-2.png`), size: PNG.length, mime: 'image/png' },
    ]);
    expect((await readdir(out)).sort()).toEqual([`${ID}-0.jpg`, `${ID}-1.png`, `${ID}-2.png`]);
    expect(await readdir(dir)).toEqual(['out']);
    expect((await readFile(join(out, `${ID}-0.jpg`))).equals(JPEG)).toBe(true);
  });

  it('refuses a request id that is not one of fal’s before touching the disk', async () => {
    const out = await outDir();
    for (const requestId of ['..', '../x', 'a/b']) {
      const error = await caught(
        downloadOutputs({
          requestId,
          result: { images: [{ url: 'data:image/png;base64,AA==' }] },
          outDir: out,
        }),
      );
      expect(error).toBeInstanceOf(InputError);
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('a CDN that stalls after the headers fails after the idle timeout, leaving no .part', async () => {
    const out = await outDir();
    cdn({}, (_req, res) => {
      res.writeHead(200, { 'content-length': '100000', 'content-type': 'image/png' });
      res.write(PNG);
    });
    const error = await caught(
      downloadOutputs({
        requestId: ID,
        result: { images: [{ url: `${server.url}/stall.png` }] },
        outDir: out,
        idleTimeoutMs: 300,
      }),
    );
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toBe(
      `Downloading output 0 ("${server.url}/stall.png") of ${ID} stalled: no data for 300 ms. The partial file was removed; run falai download ${ID} to try again.`,
    );
    expect(await readdir(out)).toEqual([]);
  });

  it('a file over the size cap fails with an error naming the cap and how to raise it', async () => {
    const out = await outDir();
    cdn({}, (req, res) => {
      if (req.url === '/big') {
        res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) });
        res.write(PNG);
        return;
      }
      // No Content-Length, and no end.
      res.writeHead(200, { 'content-type': 'image/png' });
      const chunk = Buffer.alloc(64 * 1024, 1);
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {}
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const options = {
      requestId: ID,
      outDir: out,
      maxBytes: 1024 * 1024,
      maxBytesHint: '--max-download-size',
    };
    const announced = await caught(
      downloadOutputs({ ...options, result: { images: [{ url: `${server.url}/big` }] } }),
    );
    expect(announced).toBeInstanceOf(MediaError);
    expect(announced.message).toBe(
      `output 0 ("${server.url}/big") of ${ID} is larger than the download size cap of 1 MiB (10 MiB announced); nothing was kept. Raise the cap with --max-download-size to save it.`,
    );
    const endless = await caught(
      downloadOutputs({ ...options, result: { images: [{ url: `${server.url}/endless` }] } }),
    );
    expect(endless.message).toContain(
      'larger than the download size cap of 1 MiB (more than 1 MiB received)',
    );
    const inline = await caught(
      downloadOutputs({
        ...options,
        maxBytes: 50,
        result: { images: [{ url: `data:image/png;base64,${PNG.toString('base64')}` }] },
      }),
    );
    expect(inline.message).toContain('larger than the download size cap of 50 bytes (70 bytes)');
    expect(await readdir(out)).toEqual([]);
  });

  it('an abort signal stops every transfer and removes the partial files', async () => {
    const out = await outDir();
    let open = 0;
    cdn({}, (_req, res) => {
      open++;
      res.on('close', () => open--);
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(PNG);
      const timer = setInterval(() => res.write(Buffer.alloc(1024, 1)), 20);
      res.on('close', () => clearInterval(timer));
    });
    const result = {
      images: [{ url: `${server.url}/slow/1` }, { url: `${server.url}/slow/2` }],
    };
    const controller = new AbortController();
    const pending = downloadOutputs({
      requestId: ID,
      result,
      outDir: out,
      signal: controller.signal,
    });
    await expect.poll(() => open).toBe(2);
    await expect
      .poll(async () => (await readdir(out)).filter((n) => n.endsWith('.part')).length)
      .toBe(2);
    controller.abort();
    const error = await caught(pending);
    expect(error).toBeInstanceOf(AbortedError);
    expect(error.code).toBe('ABORTED');
    expect(error.message).toBe(
      `Saving the outputs of ${ID} was stopped; partial files were removed. Run falai download ${ID} to save them.`,
    );
    expect(await readdir(out)).toEqual([]);
    await expect.poll(() => open).toBe(0);

    // A whole-command deadline (AbortSignal.timeout) reads as TIMEOUT.
    const timedOut = await caught(
      downloadOutputs({ requestId: ID, result, outDir: out, signal: AbortSignal.timeout(200) }),
    );
    expect(timedOut.code).toBe('TIMEOUT');
    expect(await readdir(out)).toEqual([]);
  });

  it('one failing file stops the others; nothing partial is left', async () => {
    const out = await outDir();
    let open = 0;
    cdn({ ok: PNG }, (req, res) => {
      if (req.url === '/gone') {
        setTimeout(() => res.writeHead(404).end(), 100);
        return;
      }
      open++;
      res.on('close', () => open--);
      res.writeHead(200);
      const timer = setInterval(() => res.write(Buffer.alloc(1024, 1)), 20);
      res.on('close', () => clearInterval(timer));
    });
    const error = await caught(
      downloadOutputs({
        requestId: ID,
        result: { images: [{ url: `${server.url}/slow` }, { url: `${server.url}/gone` }] },
        outDir: out,
      }),
    );
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toContain('failed with HTTP 404');
    expect(await readdir(out)).toEqual([]);
    await expect.poll(() => open).toBe(0);
  });

  it('a size different from file_size is refused and leaves no file', async () => {
    const out = await outDir();
    cdn({ a: PNG });
    const error = await caught(
      downloadOutputs({
        requestId: ID,
        result: { images: [{ url: `${server.url}/cdn/a`, file_size: 5000 }] },
        outDir: out,
      }),
    );
    expect(error.message).toMatch(new RegExp(`Downloaded ${PNG.length} bytes.*file_size 5000`));
    expect(await readdir(out)).toEqual([]);
  });

  it('a second download of the same outputs keeps the files; other bytes are OUTPUT_EXISTS', async () => {
    const out = await outDir();
    cdn({ a: PNG });
    const result = {
      images: [
        { url: `${server.url}/cdn/a` },
        { url: `data:image/jpeg;base64,${JPEG.toString('base64')}` },
      ],
    };
    const first = await downloadOutputs({ requestId: ID, result, outDir: out });
    const kept: string[] = [];
    const again = await downloadOutputs({
      requestId: ID,
      result,
      outDir: out,
      previous: first,
      onKept: (file) => kept.push(file.path),
    });
    expect(again).toEqual(first);
    expect(kept).toEqual(first.map((file) => file.path));
    expect(server.seen).toHaveLength(1);
    const error = await caught(
      downloadOutputs({
        requestId: ID,
        result: {
          images: [
            { url: `data:image/png;base64,${Buffer.concat([PNG, PNG]).toString('base64')}` },
          ],
        },
        outDir: out,
      }),
    );
    expect(error.code).toBe('OUTPUT_EXISTS');
  });
});
