import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { minimalRecord } from '@falai/store-conformance';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index.js';

/** A TCP server on 127.0.0.1; `answerInfo` makes it answer Redis's ready check, then nothing. */
async function silentServer(answerInfo: boolean): Promise<{ port: number; server: Server }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    if (!answerInfo) return;
    // Answers what ioredis sends on connect (CLIENT SETINFO, the INFO ready check), in order;
    // every command after that gets no answer at all.
    socket.on('data', (chunk) => {
      for (const [, name] of chunk.toString('latin1').matchAll(/\*\d+\r\n\$\d+\r\n(\w+)/g)) {
        if (/^client$/i.test(name ?? '')) socket.write('+OK\r\n');
        else if (/^info$/i.test(name ?? '')) {
          const body = '# Server\r\nredis_version:7.0.0\r\nloading:0\r\n';
          socket.write(`$${body.length}\r\n${body}\r\n`);
        }
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  server.on('close', () => {
    for (const socket of sockets) socket.destroy();
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { port: address.port, server };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.close();
    server.emit('close');
  }
});

describe('redis store: a server that never answers', () => {
  it('fails connect-bound operations with a clear STORE_ERROR instead of hanging', async () => {
    const { port, server } = await silentServer(false);
    servers.push(server);
    const store = createRedisStore({ url: `redis://127.0.0.1:${port}?connectTimeout=300` });
    expect(store.location).toBe(`redis://127.0.0.1:${port} (prefix falai)`);
    const attempts: [string, () => Promise<unknown>][] = [
      ['list', () => store.list()],
      ['put', () => store.put(minimalRecord())],
    ];
    for (const [operation, attempt] of attempts) {
      await expect(attempt()).rejects.toMatchObject({
        code: 'STORE_ERROR',
        message:
          `The Redis store at redis://127.0.0.1:${port} (prefix falai) failed to connect ` +
          `(${operation}): Redis accepted no connection, or did not answer on it, within 300 ` +
          'ms. Check that Redis is running and reachable, or choose another store with ' +
          'FALAI_STORE.',
      });
    }
    await store.close();
  });

  it('fails a command Redis never answers with a clear STORE_ERROR', async () => {
    const { port, server } = await silentServer(true);
    servers.push(server);
    const store = createRedisStore({
      url: `redis://127.0.0.1:${port}`,
      connectTimeoutMs: 2_000,
      commandTimeoutMs: 300,
    });
    await expect(store.list()).rejects.toMatchObject({
      code: 'STORE_ERROR',
      message: expect.stringContaining('failed to list: Redis did not answer within 300 ms.'),
    });
    await expect(store.put(minimalRecord())).rejects.toMatchObject({
      code: 'STORE_ERROR',
      message: expect.stringContaining('failed to put: Redis did not answer within 300 ms.'),
    });
    await store.close();
  });

  it('refuses a timeout in the URL that is not a number of milliseconds', () => {
    expect(() => createRedisStore({ url: 'redis://127.0.0.1:6379?commandTimeout=soon' })).toThrow(
      /commandTimeout=soon must be a positive number of milliseconds/,
    );
  });
});

const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedisServer && process.env.CI) {
  throw new Error('redis-server is not installed and CI is set: the restart test must run in CI.');
}
if (!hasRedisServer) {
  console.warn('\n  ⚠ SKIPPING the Redis restart test: redis-server is not installed.\n');
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Starts a throwaway redis-server on `port` (in memory only) and waits until it listens. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
  });
  return child;
}

describe.skipIf(!hasRedisServer)('redis store: Redis restarts under a long-lived user', () => {
  it('fails fast while Redis is down and works again once it is back', async () => {
    const port = await freePort();
    let server = await startRedis(port);
    const store = createRedisStore({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 1_000 });
    try {
      const before = minimalRecord({ requestId: 'before' });
      await store.put(before);
      expect(await store.get('before')).toEqual(before);

      server.kill('SIGKILL');
      await once(server, 'exit');
      // While it is down: a clear error, not a hang.
      await expect(store.put(minimalRecord({ requestId: 'down' }))).rejects.toMatchObject({
        code: 'STORE_ERROR',
        message: expect.stringContaining('Check that Redis is running'),
      });
      // Long enough for ioredis to give up reconnecting on its own (~3 s of backoff).
      await new Promise((resolve) => setTimeout(resolve, 3_500));
      await expect(store.list()).rejects.toMatchObject({ code: 'STORE_ERROR' });

      server = await startRedis(port);
      // The same store object connects again (Redis came back empty: --save "").
      const after = minimalRecord({ requestId: 'after' });
      await store.put(after);
      expect(await store.list()).toEqual([after]);
    } finally {
      await store.close();
      server.kill('SIGKILL');
    }
  }, 30_000);
});
