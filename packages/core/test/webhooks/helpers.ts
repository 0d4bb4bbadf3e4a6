import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { createMemoryStore, type PendingStore } from '../../src/index.js';

/** An Ed25519 key pair and its public JWK, made fresh for each test. */
export interface TestKey {
  readonly privateKey: KeyObject;
  readonly jwk: { kty: string; crv: string; x: string; kid?: string };
}

export function makeKey(kid?: string): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const { kty, crv, x } = publicKey.export({ format: 'jwk' }) as {
    kty: string;
    crv: string;
    x: string;
  };
  return { privateKey, jwk: kid ? { kty, crv, x, kid } : { kty, crv, x } };
}

/** Signs like fal: Ed25519 over `id\nuser\nts\nsha256hex(body)`, hex signature. */
export function signDelivery(options: {
  key: TestKey;
  body: string | Buffer;
  requestId: string;
  userId?: string;
  timestamp?: number;
}): Record<string, string> {
  const userId = options.userId ?? 'user-1';
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const digest = createHash('sha256').update(options.body).digest('hex');
  const message = Buffer.from(`${options.requestId}\n${userId}\n${timestamp}\n${digest}`);
  return {
    'content-type': 'application/json',
    'x-fal-webhook-request-id': options.requestId,
    'x-fal-webhook-user-id': userId,
    'x-fal-webhook-timestamp': timestamp,
    'x-fal-webhook-signature': sign(null, message, options.key.privateKey).toString('hex'),
  };
}

/** A JWKS on 127.0.0.1 whose keys a test can swap, counting the fetches it serves. */
export interface JwksServer {
  readonly url: string;
  fetches: number;
  keys: TestKey[];
  status: number;
  close(): Promise<void>;
}

export async function startJwksServer(keys: TestKey[]): Promise<JwksServer> {
  const state = { fetches: 0, keys, status: 200 };
  const server: Server = createServer((request, response) => {
    state.fetches += 1;
    if (request.url !== '/.well-known/jwks.json' || state.status !== 200) {
      response.writeHead(request.url === '/.well-known/jwks.json' ? state.status : 404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: state.keys.map((key) => key.jwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}

/** The core reference store: conditional updates with the same semantics as every store. */
export function memoryStore(): PendingStore {
  return createMemoryStore();
}

/**
 * Registers an `afterEach` that closes what each test opened (servers, emulators), last
 * opened first; returns the function that enrols a resource and hands it back.
 */
export function closeAfterEach(): <T extends { close(): Promise<unknown> }>(resource: T) => T {
  const open: { close(): Promise<unknown> }[] = [];
  afterEach(async () => {
    for (const resource of open.splice(0).reverse()) await resource.close();
  });
  return (resource) => {
    open.push(resource);
    return resource;
  };
}
