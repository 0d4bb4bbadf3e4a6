import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, FalaiError, InputError } from '../../src/errors/index.js';
import { createFalClient, type FalClient } from '../../src/queue/index.js';
import { type HostileServer, readAll, sendRaw, startHostileServer } from './hostile-server.js';

/**
 * What a fal answer may not do, against a hostile server on 127.0.0.1 (issue #11 items 6, 8,
 * 10 and 14): a 200 that is not JSON, a redirect to another host, a body without end, an id
 * that is a path. None of it may become a result.
 */

const KEY = 'hostile-id:hostile-secret-0000';
const ID = '80e732af-660e-45cd-bd63-580e4f2a94cc';
const NO_RETRY = {
  submit: { maxRetries: 0 },
  status: { maxRetries: 0 },
  result: { maxRetries: 0 },
  cancel: { maxRetries: 0 },
};

let server: HostileServer;
let other: HostileServer;
let client: FalClient;

beforeAll(async () => {
  server = await startHostileServer();
  other = await startHostileServer();
  client = createFalClient({ credentials: KEY, baseUrl: server.url, retry: NO_RETRY });
});
afterEach(() => {
  server.seen.length = 0;
  other.seen.length = 0;
});
afterAll(async () => {
  await server.close();
  await other.close();
});

async function caught(promise: Promise<unknown>): Promise<FalaiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(FalaiError.isInstance(error)).toBe(true);
  return error as FalaiError;
}

const completedStatus = JSON.stringify({
  status: 'COMPLETED',
  request_id: ID,
  response_url: `x/${ID}`,
  logs: [],
});

describe('only real answers count (#6)', () => {
  it('a 200 result that is an HTML page is an API_ERROR, not a completed result', async () => {
    server.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Please log in to the Wi-Fi</body></html>');
    };
    const error = await caught(client.result('fal-ai/flux', ID));
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe('API_ERROR');
    expect(error.message).toContain('not JSON');
    expect(error.message).toContain('text/html');
  });

  it('a 200 status that is not JSON, or empty, is an API_ERROR', async () => {
    server.handler = (_req, res) => sendRaw(res, 200, 'OK', { 'content-type': 'text/plain' });
    expect((await caught(client.status('fal-ai/flux', ID))).code).toBe('API_ERROR');
    server.handler = (_req, res) => sendRaw(res, 200, '');
    const empty = await caught(client.result('fal-ai/flux', ID));
    expect(empty.code).toBe('API_ERROR');
    expect(empty.message).toContain('empty answer');
  });

  it('a redirect to another host is not followed: API_ERROR, the other host sees nothing', async () => {
    other.handler = (_req, res) => sendRaw(res, 200, '{"images":[{"url":"https://x.test/a.png"}]}');
    server.handler = (_req, res) => {
      res.writeHead(302, { location: `${other.url}/fal-ai/flux/requests/${ID}` });
      res.end();
    };
    const error = await caught(client.result('fal-ai/flux', ID));
    expect(error.code).toBe('API_ERROR');
    expect(error.message).toContain(`redirected (HTTP 302) to another host, ${other.url}`);
    expect(other.seen).toHaveLength(0);
    // A submit too: the body (and the key) never go to the other host.
    const submit = await caught(client.submit('fal-ai/flux/dev', { prompt: 'x' }));
    expect(submit.code).toBe('API_ERROR');
    expect(other.seen).toHaveLength(0);
  });

  it('follows a same-host redirect, a bounded number of times', async () => {
    server.handler = (req, res) => {
      if (req.url === `/fal-ai/flux/requests/${ID}`) {
        res.writeHead(301, { location: `/moved/${ID}` });
        res.end();
        return;
      }
      sendRaw(res, 200, '{"images":[]}');
    };
    const outcome = await client.result('fal-ai/flux', ID);
    expect(outcome).toEqual({
      state: 'completed',
      requestId: ID,
      endpointId: 'fal-ai/flux',
      output: { images: [] },
    });
    expect(server.seen.map((r) => r.path)).toEqual([`/fal-ai/flux/requests/${ID}`, `/moved/${ID}`]);
    expect(server.seen[1]?.headers.authorization).toBe(`Key ${KEY}`);

    server.seen.length = 0;
    server.handler = (req, res) => {
      res.writeHead(307, { location: `${req.url}x` });
      res.end();
    };
    const loop = await caught(client.result('fal-ai/flux', ID));
    expect(loop.code).toBe('API_ERROR');
    expect(loop.message).toContain('redirected more than 5 times');
    expect(server.seen).toHaveLength(6);
  });

  it('a submit redirected with 307 on the same host is sent again with its body', async () => {
    const bodies: string[] = [];
    server.handler = async (req, res) => {
      bodies.push((await readAll(req)).toString());
      if (req.url === '/fal-ai/flux/dev') {
        res.writeHead(307, { location: '/v2/fal-ai/flux/dev' });
        res.end();
        return;
      }
      sendRaw(res, 200, JSON.stringify({ request_id: ID, status: 'IN_QUEUE', queue_position: 0 }));
    };
    const submitted = await client.submit('fal-ai/flux/dev', { prompt: 'x' });
    expect(submitted.requestId).toBe(ID);
    expect(bodies).toEqual(['{"prompt":"x"}', '{"prompt":"x"}']);
  });

  it('a submit answered 303 (which would drop the body) is an API_ERROR', async () => {
    server.handler = (_req, res) => {
      res.writeHead(303, { location: '/elsewhere' });
      res.end();
    };
    const error = await caught(client.submit('fal-ai/flux/dev', { prompt: 'x' }));
    expect(error.code).toBe('API_ERROR');
    expect(error.message).toContain('would drop its body');
    expect(server.seen).toHaveLength(1);
  });
});

describe('bounded memory (#8)', () => {
  it('a status answer past the 1 MiB default cap fails with an API_ERROR naming the cap', async () => {
    const huge = JSON.stringify({ status: 'IN_PROGRESS', logs: ['x'.repeat(2 * 1024 * 1024)] });
    server.handler = (_req, res) => sendRaw(res, 200, huge);
    const error = await caught(client.status('fal-ai/flux', ID));
    expect(error.code).toBe('API_ERROR');
    expect(error.message).toContain('larger than the 1 MiB cap');
    expect(error.message).toContain('maxStatusBytes');
  });

  it('a result body that never ends is cut at the cap, announced or not', async () => {
    const small = createFalClient({
      credentials: KEY,
      baseUrl: server.url,
      retry: NO_RETRY,
      maxResultBytes: 256 * 1024,
    });
    let closed = false;
    server.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.on('close', () => {
        closed = true;
      });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      res.write('{"images":[');
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {}
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    };
    const error = await caught(small.result('fal-ai/flux', ID));
    expect(error.code).toBe('API_ERROR');
    expect(error.message).toContain('larger than the 256 KiB cap');
    expect(error.message).toContain('maxResultBytes');
    expect((error.details as { maxBytes: number }).maxBytes).toBe(256 * 1024);
    // The client hung up: the server did not go on sending forever.
    await expect.poll(() => closed).toBe(true);

    server.seen.length = 0;
    server.handler = (_req, res) => {
      res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) });
      res.write('{');
    };
    const announced = await caught(small.result('fal-ai/flux', ID));
    expect(announced.message).toContain('larger than the 256 KiB cap (at least 10 MiB)');
  });

  it('an error body past the cap is not read either', async () => {
    server.handler = (_req, res) => sendRaw(res, 500, 'x'.repeat(2 * 1024 * 1024));
    const error = await caught(client.status('fal-ai/flux', ID));
    expect(error.message).toContain('larger than the 1 MiB cap');
  });
});

describe('server-supplied ids are checked (#10)', () => {
  it.each([
    ['..', '".."'],
    ['../../fal-ai/flux', '"../../fal-ai/flux"'],
    ['a/b', '"a/b"'],
    ['x%2F..', '"x%2F.."'],
    ['id\u001b[31mred', '"id\\u001b[31mred"'],
    ['a'.repeat(200), `"${'a'.repeat(80)}…"`],
  ])(
    'a submit answered with request_id %j is an API_ERROR, and nothing follows',
    async (id, shown) => {
      server.handler = (_req, res) =>
        sendRaw(res, 200, JSON.stringify({ request_id: id, status: 'IN_QUEUE' }));
      const error = await caught(client.submit('fal-ai/flux/dev', {}));
      expect(error).toBeInstanceOf(ApiError);
      expect(error.code).toBe('API_ERROR');
      expect(error.message).toContain(`invalid request_id ${shown}`);
      expect(server.seen).toHaveLength(1);
    },
  );

  it('a request id given by the caller is checked before any URL is built', async () => {
    for (const id of ['..', '.', 'a/../b', 'a%2fb', '', ' ']) {
      const error = await caught(client.result('fal-ai/flux', id));
      expect(error).toBeInstanceOf(InputError);
      expect(error.code).toBe('INPUT_INVALID');
    }
    expect(server.seen).toHaveLength(0);
  });

  it('queue URLs fal sends for another host are replaced by ours; a bad gateway id is dropped', async () => {
    server.handler = (_req, res) =>
      sendRaw(
        res,
        200,
        JSON.stringify({
          request_id: ID,
          gateway_request_id: '../x',
          status: 'IN_QUEUE',
          status_url: `http://attacker.invalid/fal-ai/flux/requests/${ID}/status`,
          response_url: `${server.url}/fal-ai/flux/requests/${ID}`,
          cancel_url: 'javascript:alert(1)',
          queue_position: -3,
        }),
      );
    const submitted = await client.submit('fal-ai/flux/dev', {});
    expect(submitted).toEqual({
      requestId: ID,
      endpointId: 'fal-ai/flux/dev',
      statusUrl: `${server.url}/fal-ai/flux/requests/${ID}/status`,
      responseUrl: `${server.url}/fal-ai/flux/requests/${ID}`,
      cancelUrl: `${server.url}/fal-ai/flux/requests/${ID}/cancel`,
      queuePosition: 0,
      attempts: 1,
    });
  });
});

describe('64-bit integers stay exact (#14)', () => {
  it('a seed above 2^53 is sent with its exact digits and read back as the same bigint', async () => {
    let sent = '';
    server.handler = async (req, res) => {
      if (req.method === 'POST') {
        sent = (await readAll(req)).toString();
        sendRaw(res, 200, JSON.stringify({ request_id: ID, status: 'IN_QUEUE' }));
        return;
      }
      if (req.url?.endsWith('/status?logs=0')) {
        sendRaw(res, 200, completedStatus);
        return;
      }
      sendRaw(res, 200, '{"images":[],"seed":17454220438242315174,"timings":{"inference":0.5}}');
    };
    await client.submit('fal-ai/flux/dev', { prompt: 'x', seed: 17454220438242315174n });
    expect(sent).toBe('{"prompt":"x","seed":17454220438242315174}');
    const outcome = await client.result('fal-ai/flux', ID);
    expect(outcome.state === 'completed' && outcome.output).toEqual({
      images: [],
      seed: 17454220438242315174n,
      timings: { inference: 0.5 },
    });
  });
});
