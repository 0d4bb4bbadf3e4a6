import { type Emulator, startEmulator } from '@falai/emulator';
import { createPlatformClient, type PlatformClient } from '../../src/platform/index.js';
import type { PlatformClientOptions } from '../../src/platform/types.js';
import { createFalClient } from '../../src/queue/index.js';
import type { FalClient } from '../../src/queue/types.js';

/** An API key the test emulator accepts; its secret must never show up in an error. */
export const API_KEY = 'platform-api-id:platform-api-secret-4c1d9e';
export const API_SECRET = 'platform-api-secret-4c1d9e';
/** An ADMIN key (billing events, usage, account billing). */
export const ADMIN_KEY = 'platform-admin-id:platform-admin-secret-77b2';
export const ADMIN_SECRET = 'platform-admin-secret-77b2';

/** Fast retries so fault tests stay quick; Retry-After still wins when sent. */
export const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20 } as const;

/** A deterministic emulator with one API key, one ADMIN key and short latencies. */
export function startPlatformEmulator(): Promise<Emulator> {
  return startEmulator({
    port: 0,
    deterministic: true,
    strict: true,
    defaultLatency: { queueMs: 5, runMs: 20 },
    concurrency: Number.POSITIVE_INFINITY,
    keys: { accept: [API_KEY] },
    platform: { adminKeys: [ADMIN_KEY], username: 'contract', credits: 25 },
  });
}

/** A Platform client on the emulator (the API at `<emulator>/v1`). */
export function platformFor(
  emulator: Emulator,
  options: PlatformClientOptions = {},
): PlatformClient {
  return createPlatformClient({
    credentials: API_KEY,
    baseUrl: emulator.url,
    retry: FAST_RETRY,
    ...options,
  });
}

/** The queue client on the emulator, for real submits. */
export function queueFor(emulator: Emulator): FalClient {
  return createFalClient({ credentials: API_KEY, baseUrl: emulator.url });
}

/** Platform calls the emulator logged, optionally for one path. */
export function platformCalls(emulator: Emulator, path?: string) {
  return emulator.log.filter(
    (entry) => entry.kind === 'platform' && (path === undefined || entry.path === `/v1${path}`),
  );
}
