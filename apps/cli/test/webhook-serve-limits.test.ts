import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { join } from 'node:path';
import { newPendingRecord } from '@falai/core/internal';
import { createFileStore } from '@falai/store-file';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, FAL_KEY, RUN_JS, SECRET, type TestEnv } from './helpers.js';

const ENDPOINT = 'fal-ai/nano-banana-pro';

/** fal's signing, with a key pair made for this file and served as a JWKS on 127.0.0.1. */
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
let jwks: Server;
let jwksUrl: string;
let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv({ emulator: false });
  const jwk = publicKey.export({ format: 'jwk' });
  jwks = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => jwks.close(() => resolve()));
  await env.close();
});

function signed(body: string, requestId: string): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const digest = createHash('sha256').update(body).digest('hex');
  const message = Buffer.from(`${requestId}\nuser-1\n${timestamp}\n${digest}`);
  return {
    'content-type': 'application/json',
    'x-fal-webhook-request-id': requestId,
    'x-fal-webhook-user-id': 'user-1',
    'x-fal-webhook-timestamp': timestamp,
    'x-fal-webhook-signature': sign(null, message, privateKey).toString('hex'),
  };
}

/** The built `falai webhook serve`, with everything it prints. */
async function startServe(storePath: string, args: readonly string[]) {
  const child = spawn(
    process.execPath,
    [RUN_JS, 'webhook', 'serve', '--port', '0', '--jwks-url', jwksUrl, ...args],
    {
      cwd: env.dir,
      env: { ...env.baseEnv, FALAI_STORE: `file:${storePath}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const look = () => {
      const json = /"url":"([^"]+)"/.exec(stdout)?.[1];
      const human = /Listening for fal webhooks on (\S+)/.exec(stdout)?.[1];
      if (json ?? human) resolve((json ?? human)!);
      else if (child.exitCode !== null) reject(new Error(`serve exited:\n${stdout}\n${stderr}`));
      else setTimeout(look, 20);
    };
    look();
  });
  return {
    url,
    async stop() {
      child.kill('SIGINT');
      const code = await exited;
      return { code, stdout, stderr };
    },
  };
}

async function post(url: string, body: string, headers: Record<string, string>) {
  const response = await fetch(url, { method: 'POST', headers, body });
  return { status: response.status, text: await response.text() };
}

/** Sends only a request head, and resolves with whatever the server answers before closing. */
async function headOnly(url: string, headers: Record<string, string | number>): Promise<string> {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  let received = '';
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
  });
  socket.on('error', () => undefined);
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  socket.write(`POST / HTTP/1.1\r\nhost: 127.0.0.1\r\n${lines.join('\r\n')}\r\n\r\n`);
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return received;
}

/** A fresh name in the test folder. */
const fresh = (stem: string) => join(env.dir, `${stem}-${randomBytes(4).toString('hex')}`);

describe('falai webhook serve against hostile and huge input', () => {
  it('never prints FAL_KEY, whatever a delivery or a stranger sends (human and --json)', async () => {
    for (const mode of [['--json'], []]) {
      const storePath = `${fresh('key')}.json`;
      const store = createFileStore({ path: storePath });
      for (const id of ['k1', 'k2', 'k3']) {
        await store.put(newPendingRecord({ requestId: id, endpointId: ENDPOINT }));
      }
      await store.close();
      const serve = await startServe(storePath, mode);
      const deliveries = [
        { request_id: 'k1', status: 'OK', payload: null, payload_error: `rejected ${FAL_KEY}` },
        {
          request_id: 'k2',
          status: 'ERROR',
          error: `Invalid status code: 500 (${encodeURIComponent(FAL_KEY)})`,
          payload: { detail: `Authorization: Key ${FAL_KEY}` },
        },
        { request_id: 'k3', status: FAL_KEY },
      ];
      for (const delivery of deliveries) {
        const body = JSON.stringify(delivery);
        const answer = await post(serve.url, body, signed(body, delivery.request_id));
        expect(answer.text).not.toContain(SECRET);
      }
      const forged = await post(serve.url, '{}', {
        'x-fal-webhook-request-id': 'k1',
        'x-fal-webhook-user-id': 'u',
        'x-fal-webhook-timestamp': encodeURIComponent(FAL_KEY),
        'x-fal-webhook-signature': 'ab'.repeat(64),
      });
      expect(forged.status).toBe(401);
      expect(forged.text).not.toContain(SECRET);
      const { code, stdout, stderr } = await serve.stop();
      expect(code).toBe(0);
      const printed = `${stdout}\n${stderr}`;
      expect(printed).toContain('k1');
      expect(printed).toContain('[redacted]');
      expect(printed).not.toContain(SECRET);
      expect(printed).not.toContain(encodeURIComponent(FAL_KEY));
    }
  });

  it('with --download writes inline data-URI outputs to --out and keeps only references in the store', async () => {
    const storePath = `${fresh('inline')}.json`;
    const out = fresh('renders');
    const store = createFileStore({ path: storePath });
    await store.put(newPendingRecord({ requestId: 'inline-1', endpointId: ENDPOINT }));
    const png = Buffer.concat([
      Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'),
      randomBytes(2 * 1024 * 1024),
    ]);
    const serve = await startServe(storePath, ['--json', '--download', '--out', out]);
    const body = JSON.stringify({
      request_id: 'inline-1',
      status: 'OK',
      payload: { images: [{ url: `data:image/png;base64,${png.toString('base64')}` }] },
    });
    expect((await post(serve.url, body, signed(body, 'inline-1'))).status).toBe(200);
    let record = await store.get('inline-1');
    while (!record?.outputs) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      record = await store.get('inline-1');
    }
    const { code, stdout } = await serve.stop();
    expect(code).toBe(0);
    await store.close();

    const raw = await readFile(storePath, 'utf8');
    expect(raw).not.toContain('base64,');
    expect(raw.length).toBeLessThan(4_096);
    const [saved] = await readdir(out);
    expect(saved).toMatch(/^inline-1-[0-9a-f]{12}\.png$/);
    const path = join(out, saved!);
    expect((await readFile(path)).equals(png)).toBe(true);
    expect(record.result).toEqual({
      images: [
        {
          url: {
            $omitted: 'data-uri',
            mime: 'image/png',
            size: png.length,
            digest: `sha256:${createHash('sha256').update(png).digest('hex')}`,
            path,
          },
        },
      ],
    });
    expect(record.outputs).toEqual([{ url: 'data:', path, size: png.length, mime: 'image/png' }]);
    expect(stdout).not.toContain('base64,');
  });

  it('refuses before reading: 401 for an unsigned head, 413 past --max-body', async () => {
    const storePath = `${fresh('limits')}.json`;
    const serve = await startServe(storePath, ['--json', '--max-body', '1']);
    // Only the head is sent: the answer comes without the body, and the connection closes.
    const unsigned = await headOnly(serve.url, { 'content-length': 10_000_000 });
    expect(unsigned).toMatch(/^HTTP\/1\.1 401 /);
    expect(unsigned).toContain('"reason":"missing-header"');
    const big = await headOnly(serve.url, {
      'x-fal-webhook-request-id': 'r1',
      'x-fal-webhook-user-id': 'u',
      'x-fal-webhook-timestamp': String(Math.floor(Date.now() / 1000)),
      'x-fal-webhook-signature': 'ab'.repeat(64),
      'content-length': 1024 * 1024 + 1,
    });
    expect(big).toMatch(/^HTTP\/1\.1 413 /);
    const { code, stdout } = await serve.stop();
    expect(code).toBe(0);
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as { rejected: number };
    expect(summary.rejected).toBe(2);
  });
});
