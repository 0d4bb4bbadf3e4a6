import { type Emulator, startEmulator } from '@falai/emulator';
import { createFalClient } from '../../src/queue/index.js';
import type { FalClient, FalClientOptions } from '../../src/queue/types.js';

/** The key the test emulator accepts; its secret must never show up in an error. */
export const GOOD_KEY = 'test-key-id-0001:good-secret-7f3a9c2e4b1d';
export const GOOD_SECRET = 'good-secret-7f3a9c2e4b1d';
export const LOCKED_KEY = 'locked-key-id-0002:locked-secret-5e8d1a0c';

/** Fast retries so fault tests stay quick; Retry-After still wins when sent. */
export const FAST_RETRY = {
  submit: { baseDelayMs: 5, maxDelayMs: 20 },
  status: { baseDelayMs: 5, maxDelayMs: 20 },
  result: { baseDelayMs: 5, maxDelayMs: 20 },
  cancel: { baseDelayMs: 5, maxDelayMs: 20 },
  upload: { baseDelayMs: 5, maxDelayMs: 20 },
} as const;

/**
 * Starts a deterministic emulator with known keys and short latencies, in strict mode (unknown
 * endpoint ids get 404 at submit, as at fal): a test's endpoint id must be a model definition
 * or be `setModel` first.
 */
export function startTestEmulator(): Promise<Emulator> {
  return startEmulator({
    port: 0,
    deterministic: true,
    strict: true,
    defaultLatency: { queueMs: 20, runMs: 80 },
    keys: { accept: [GOOD_KEY], locked: [LOCKED_KEY] },
    sseKeepAliveMs: 1000,
  });
}

/** A client pointed at the emulator. */
export function clientFor(emulator: Emulator, options: FalClientOptions = {}): FalClient {
  return createFalClient({
    credentials: GOOD_KEY,
    baseUrl: emulator.url,
    retry: FAST_RETRY,
    ...options,
  });
}

/** The emulator's log entries of one kind, optionally for one request. */
export function logged(emulator: Emulator, kind: string, requestId?: string) {
  return emulator.log.filter(
    (entry) => entry.kind === kind && (requestId === undefined || entry.requestId === requestId),
  );
}

/** Resolves once `predicate` holds, checking every few ms (bounded by the test timeout). */
export async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((resolve) => setTimeout(resolve, 5));
}
