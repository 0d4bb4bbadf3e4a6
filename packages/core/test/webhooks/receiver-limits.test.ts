import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createWebhookHandler,
  createWebhookServer,
  createWebhookVerifier,
  type WebhookEvent,
  type WebhookHandler,
  type WebhookHandlerOptions,
  type WebhookServer,
  type WebhookServerOptions,
} from '../../src/index.js';
import { closeAfterEach, makeKey, memoryStore, signDelivery, startJwksServer } from './helpers.js';

const closing = closeAfterEach();

/** A raw HTTP/1.1 client on one socket, so a test controls every byte and its timing. */
interface RawClient {
  readonly socket: Socket;
  /** Everything the server sent, once it closed the connection. */
  readonly closed: Promise<string>;
  /** Resolves with the status line's code as soon as a response head arrives. */
  readonly status: Promise<number>;
  /** Sends one byte at a time until the socket closes (a trickling body or header). */
  trickle(text: string): void;
}

const sockets: Socket[] = [];
const timers: NodeJS.Timeout[] = [];
afterEach(() => {
  for (const timer of timers.splice(0)) clearInterval(timer);
  for (const socket of sockets.splice(0)) socket.destroy();
});

async function rawClient(server: WebhookServer, head: string): Promise<RawClient> {
  const socket = connect(server.port, '127.0.0.1');
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let received = '';
  let onStatus: (status: number) => void = () => undefined;
  const status = new Promise<number>((resolve) => {
    onStatus = resolve;
  });
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
    const match = /^HTTP\/1\.1 (\d{3})/.exec(received);
    if (match) onStatus(Number(match[1]));
  });
  socket.on('error', () => undefined);
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
  socket.write(head);
  return {
    socket,
    closed,
    status,
    trickle(text) {
      let at = 0;
      const timer = setInterval(() => {
        if (socket.destroyed || socket.writableEnded) {
          clearInterval(timer);
          return;
        }
        socket.write(text[at % text.length]!);
        at += 1;
      }, 5);
      timers.push(timer);
    },
  };
}

/** Request head lines, ending with the blank line. */
function head(headers: Record<string, string | number>, method = 'POST'): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return `${method} / HTTP/1.1\r\nhost: 127.0.0.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** Signature headers of the right shape and time, but signed by nobody the JWKS knows. */
function plausibleHeaders(requestId = 'req-1'): Record<string, string> {
  return {
    'x-fal-webhook-request-id': requestId,
    'x-fal-webhook-user-id': 'user-1',
    'x-fal-webhook-timestamp': String(Math.floor(Date.now() / 1000)),
    'x-fal-webhook-signature': 'ab'.repeat(64),
  };
}

interface Receiver {
  server: WebhookServer;
  handler: WebhookHandler;
  events: WebhookEvent[];
}

async function startReceiver(
  handlerOptions: Partial<WebhookHandlerOptions> = {},
  serverOptions: Partial<WebhookServerOptions> = {},
): Promise<Receiver> {
  const jwks = closing(await startJwksServer([makeKey()]));
  const events: WebhookEvent[] = [];
  const handler = createWebhookHandler({
    verifier: createWebhookVerifier({ jwksUrl: jwks.url }),
    store: memoryStore(),
    onDelivery: (event) => events.push(event),
    ...handlerOptions,
  });
  const server = closing(await createWebhookServer({ port: 0, handler, ...serverOptions }));
  return { server, handler, events };
}

/** Waits until a condition on the receiver holds (each check yields to the event loop). */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('webhook receiver limits', () => {
  it('answers 60 unsigned trickling connections 401 without buffering a byte of their bodies', async () => {
    const { server, handler, events } = await startReceiver();
    const clients = await Promise.all(
      Array.from({ length: 60 }, () =>
        rawClient(
          server,
          head({ 'content-type': 'application/json', 'content-length': 25 * 1024 * 1024 }),
        ),
      ),
    );
    for (const client of clients) client.trickle('{"request_id":"x","status":"OK"}');
    const answers = await Promise.all(clients.map((client) => client.closed));
    for (const answer of answers) {
      expect(answer).toMatch(/^HTTP\/1\.1 401 /);
      expect(answer.toLowerCase()).toContain('connection: close');
      expect(answer).toContain('"reason":"missing-header"');
    }
    expect(handler.stats()).toMatchObject({
      rejectedBeforeBody: 60,
      bodyBytesRead: 0,
      peakBufferedBytes: 0,
      inFlight: 0,
    });
    expect(events).toHaveLength(60);
    await until(async () => (await server.connections()) === 0);
  });

  it('refuses a stale or malformed signature header with 401 before the body is sent', async () => {
    const { server, handler } = await startReceiver();
    const stale = await rawClient(
      server,
      head({
        ...plausibleHeaders(),
        'x-fal-webhook-timestamp': String(Math.floor(Date.now() / 1000) - 3_600),
        'content-length': 1_000,
      }),
    );
    const control = await rawClient(
      server,
      head({
        ...plausibleHeaders(),
        'x-fal-webhook-request-id': 'a\u0001b',
        'content-length': 1_000,
      }),
    );
    expect(await stale.closed).toContain('"reason":"stale"');
    const malformed = await control.closed;
    // node:http may refuse the control character itself (400) before the handler sees it.
    expect(malformed).toMatch(/^HTTP\/1\.1 (401|400) /);
    expect(handler.stats().bodyBytesRead).toBe(0);
  });

  it('answers 413 for a declared or streamed body past the cap, reading no further', async () => {
    const cap = 4_096;
    const { server, handler } = await startReceiver({ maxBodyBytes: cap });
    const declared = await rawClient(
      server,
      head({ ...plausibleHeaders(), 'content-length': cap + 1 }),
    );
    expect(await declared.closed).toMatch(/^HTTP\/1\.1 413 /);
    expect(handler.stats()).toMatchObject({ bodyBytesRead: 0, tooLarge: 1 });

    // Chunked: no length up front, so the cap is found while reading.
    const streamed = await rawClient(
      server,
      head({ ...plausibleHeaders(), 'transfer-encoding': 'chunked' }),
    );
    const piece = 'x'.repeat(1_024);
    for (let index = 0; index < 5; index += 1) {
      streamed.socket.write(`${piece.length.toString(16)}\r\n${piece}\r\n`);
    }
    expect(await streamed.status).toBe(413);
    expect(await streamed.closed).toContain('"reason":"too-large"');
    const stats = handler.stats();
    expect(stats.tooLarge).toBe(2);
    expect(stats.bodyBytesRead).toBeLessThanOrEqual(cap);
    expect(stats.bufferedBytes).toBe(0);
  });

  it('answers 503 with Retry-After past maxInFlight, without reading that body', async () => {
    const { server, handler } = await startReceiver({ maxInFlight: 2, retryAfterSeconds: 7 });
    const body = JSON.stringify({ request_id: 'req-1', status: 'OK', payload: {} });
    const slow = await Promise.all(
      [1, 2].map(() =>
        rawClient(server, head({ ...plausibleHeaders(), 'content-length': body.length })),
      ),
    );
    for (const client of slow) client.socket.write(body.slice(0, 10));
    await until(() => handler.stats().inFlight === 2 && handler.stats().bodyBytesRead === 20);
    const third = await rawClient(
      server,
      head({ ...plausibleHeaders(), 'content-length': body.length }),
    );
    third.socket.write(body);
    const busy = await third.closed;
    expect(busy).toMatch(/^HTTP\/1\.1 503 /);
    expect(busy.toLowerCase()).toContain('retry-after: 7');
    expect(busy).toContain('"reason":"busy"');
    expect(handler.stats()).toMatchObject({ busy: 1, rejectedBeforeBody: 1, bodyBytesRead: 20 });

    // The two slow deliveries finish and are judged on their (forged) signatures.
    for (const client of slow) client.socket.write(body.slice(10));
    for (const client of slow) expect(await client.status).toBe(401);
    await until(() => handler.stats().inFlight === 0);
    expect(handler.stats().bufferedBytes).toBe(0);
  });

  it('answers 503 when the bodies held together would pass maxBufferedBytes', async () => {
    const { server, handler } = await startReceiver({ maxBodyBytes: 800, maxBufferedBytes: 1_000 });
    const first = await rawClient(server, head({ ...plausibleHeaders(), 'content-length': 700 }));
    first.socket.write('y'.repeat(600));
    await until(() => handler.stats().bufferedBytes === 600);
    const declared = await rawClient(
      server,
      head({ ...plausibleHeaders(), 'content-length': 500 }),
    );
    expect(await declared.closed).toMatch(/^HTTP\/1\.1 503 /);
    const chunked = await rawClient(
      server,
      head({ ...plausibleHeaders(), 'transfer-encoding': 'chunked' }),
    );
    chunked.socket.write(`1f4\r\n${'z'.repeat(500)}\r\n`);
    expect(await chunked.closed).toMatch(/^HTTP\/1\.1 503 /);
    expect(handler.stats()).toMatchObject({ busy: 2, peakBufferedBytes: 600 });
    first.socket.destroy();
    await until(() => handler.stats().inFlight === 0);
    expect(handler.stats().bufferedBytes).toBe(0);
  });

  it('closes a connection whose headers trickle in past headersTimeoutMs', async () => {
    const { server, handler } = await startReceiver(
      {},
      { headersTimeoutMs: 150, requestTimeoutMs: 2_000 },
    );
    const slow = await rawClient(server, 'POST / HTTP/1.1\r\nhost: 127.0.0.1\r\n');
    slow.trickle('x-padding: aaaaaaaa\r\n');
    const answer = await slow.closed;
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(handler.stats().rejectedBeforeBody).toBe(0);
  });

  it('closes a signed-looking request whose body trickles past requestTimeoutMs', async () => {
    const { server, handler } = await startReceiver(
      {},
      { headersTimeoutMs: 100, requestTimeoutMs: 200 },
    );
    const slow = await rawClient(
      server,
      head({ ...plausibleHeaders(), 'content-length': 1_000_000 }),
    );
    slow.trickle('a');
    await slow.closed;
    await until(() => handler.stats().inFlight === 0);
    expect(handler.stats().bufferedBytes).toBe(0);
  });

  it('closes connections past maxConnections on arrival', async () => {
    const { server } = await startReceiver({}, { maxConnections: 3 });
    const held = await Promise.all([1, 2, 3].map(() => rawClient(server, '')));
    await until(async () => (await server.connections()) === 3);
    const extra = await rawClient(server, head(plausibleHeaders(), 'GET'));
    expect(await extra.closed).toBe('');
    for (const client of held) client.socket.destroy();
    await until(async () => (await server.connections()) === 0);
    const later = await rawClient(server, head({ connection: 'close' }, 'GET'));
    expect(await later.closed).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('still finalises a real delivery under these limits', async () => {
    const key = makeKey();
    const jwks = closing(await startJwksServer([key]));
    const store = memoryStore();
    const { newPendingRecord } = await import('../../src/internal.js');
    await store.put(newPendingRecord({ requestId: 'ok-1', endpointId: 'fal-ai/nano-banana-pro' }));
    const handler = createWebhookHandler({
      verifier: createWebhookVerifier({ jwksUrl: jwks.url }),
      store,
      maxBodyBytes: 1_024,
      maxInFlight: 1,
    });
    const server = closing(
      await createWebhookServer({ port: 0, handler, headersTimeoutMs: 1_000, maxConnections: 2 }),
    );
    const body = JSON.stringify({ request_id: 'ok-1', status: 'OK', payload: { ok: true } });
    const response = await fetch(server.url, {
      method: 'POST',
      headers: signDelivery({ key, body, requestId: 'ok-1' }),
      body,
    });
    expect(response.status).toBe(200);
    expect((await store.get('ok-1'))?.status).toBe('completed');
    expect(handler.stats()).toMatchObject({ bodyBytesRead: body.length, bufferedBytes: 0 });
  });
});
