import type { Emulator } from '@falai/emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError, FalaiError, StoreError } from '../../src/errors/index.js';
import {
  criticalSection,
  type SubmitInterrupt,
  submitAndRecord,
} from '../../src/lifecycle/index.js';
import { createModelRegistry } from '../../src/models/index.js';
import type { FalClient } from '../../src/queue/index.js';
import { createMemoryStore, type PendingStore } from '../../src/store/index.js';
import {
  clientFor,
  GOOD_SECRET,
  logged,
  startTestEmulator,
  until,
} from '../queue/emulator-harness.js';

/**
 * The lifecycle's submit step, driven by real signals sent to this (forked) test process
 * while the emulator holds the POST or a store holds the put.
 */
let emulator: Emulator;
let client: FalClient;
const registry = createModelRegistry();
const ENDPOINT = 'fal-ai/nano-banana-pro';

beforeAll(async () => {
  emulator = await startTestEmulator();
  client = clientFor(emulator);
});
afterEach(() => {
  emulator.clearFaults();
});
afterAll(async () => {
  await emulator.close();
});

/**
 * Makes the emulator sit on the next submit for a while before answering; `arrived` tells
 * when the POST is in flight. The hold is long next to the few milliseconds a test needs to
 * send its signal once the POST has arrived.
 */
function holdNextSubmit(): { arrived: () => boolean } {
  const before = logged(emulator, 'submit').length;
  emulator.inject({ match: { kind: 'submit' }, action: { type: 'delay', ms: 1500 }, times: 1 });
  return { arrived: () => logged(emulator, 'submit').length > before };
}

/** A store whose `put` waits for the test (like a lock held by another process). */
function gatedStore(fail?: Error): {
  store: PendingStore;
  putStarted: () => boolean;
  open: () => void;
} {
  const inner = createMemoryStore();
  let started = false;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const store: PendingStore = Object.create(inner);
  store.put = async (record) => {
    started = true;
    await gate;
    if (fail) throw fail;
    return inner.put(record);
  };
  return { store, putStarted: () => started, open };
}

describe('submitAndRecord', () => {
  it('checks the store, validates, submits once and records the input summary', async () => {
    const store = createMemoryStore();
    const before = emulator.stats.submits;
    const result = await submitAndRecord({
      endpointId: ENDPOINT,
      input: { prompt: 'a lighthouse' },
      registry,
      client,
      store,
    });
    expect(emulator.stats.submits).toBe(before + 1);
    expect(result.interrupted).toBeUndefined();
    const stored = await store.get(result.submitted.requestId);
    expect(stored?.endpointId).toBe(ENDPOINT);
    expect(stored?.status).toBe('queued');
    expect(JSON.stringify(stored)).not.toContain(GOOD_SECRET);
  });

  it('pays for nothing when the store cannot be read or the input is invalid', async () => {
    const before = emulator.stats.submits;
    const broken = createMemoryStore();
    broken.list = async () => {
      throw new StoreError('STORE_ERROR', 'unreadable', { store: 'memory', operation: 'list' });
    };
    await expect(
      submitAndRecord({
        endpointId: ENDPOINT,
        input: { prompt: 'x' },
        registry,
        client,
        store: broken,
      }),
    ).rejects.toMatchObject({ code: 'STORE_ERROR' });
    await expect(
      submitAndRecord({
        endpointId: ENDPOINT,
        input: {},
        registry,
        client,
        store: createMemoryStore(),
      }),
    ).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    expect(emulator.stats.submits).toBe(before);
  });

  it('holds a SIGTERM that arrives during the POST until the record is stored', async () => {
    const store = createMemoryStore();
    const events: SubmitInterrupt[] = [];
    const gate = holdNextSubmit();
    const pending = submitAndRecord({
      endpointId: ENDPOINT,
      input: { prompt: 'held' },
      registry,
      client,
      store,
      signals: { replay: false, onInterrupt: (event) => events.push(event) },
    });
    await until(gate.arrived);
    process.kill(process.pid, 'SIGTERM');
    await until(() => events.length > 0);
    expect(events[0]).toMatchObject({ signal: 'SIGTERM', phase: 'submit', count: 1 });
    const result = await pending;
    expect(result.interrupted).toBe('SIGTERM');
    expect(await store.get(result.submitted.requestId)).toBeDefined();
    // Once fal named the request, the hook heard its id and the resume command.
    expect(events[1]).toMatchObject({
      phase: 'record',
      requestId: result.submitted.requestId,
      resume: `falai wait ${ENDPOINT} ${result.submitted.requestId}`,
    });
  });

  it('raises a held-back signal again after the record is stored (replay, the default)', async () => {
    const store = createMemoryStore();
    const seen: { recorded: boolean }[] = [];
    let requestId: string | undefined;
    const listener = () => {
      void store.list().then((records) => seen.push({ recorded: records.length === 1 }));
    };
    process.on('SIGINT', listener);
    try {
      const gate = holdNextSubmit();
      const pending = submitAndRecord({
        endpointId: ENDPOINT,
        input: { prompt: 'replayed' },
        registry,
        client,
        store,
        signals: { onInterrupt: () => undefined },
      });
      await until(gate.arrived);
      process.kill(process.pid, 'SIGINT');
      // Not yet: the program's own handler is set aside while the request is unrecorded.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(seen).toEqual([]);
      requestId = (await pending).submitted.requestId;
      await until(() => seen.length > 0);
      expect(seen).toEqual([{ recorded: true }]);
      expect(await store.get(requestId)).toBeDefined();
    } finally {
      process.removeListener('SIGINT', listener);
    }
  });

  it('a second signal while the put waits stops waiting and names the request', async () => {
    const { store, putStarted, open } = gatedStore();
    const events: SubmitInterrupt[] = [];
    const pending = submitAndRecord({
      endpointId: ENDPOINT,
      input: { prompt: 'locked' },
      registry,
      client,
      store,
      signals: { replay: false, onInterrupt: (event) => events.push(event) },
    }).catch((error: unknown) => error);
    await until(putStarted);
    process.kill(process.pid, 'SIGINT');
    await until(() => events.length === 1);
    expect(events[0]).toMatchObject({ phase: 'record', count: 1 });
    expect(events[0]?.message).toContain(events[0]?.requestId ?? '?');
    process.kill(process.pid, 'SIGINT');
    const error = await pending;
    expect(error).toBeInstanceOf(AbortedError);
    const aborted = error as AbortedError;
    const requestId = events[0]?.requestId ?? '';
    expect(aborted.code).toBe('ABORTED');
    expect(aborted.message).toContain(requestId);
    expect(aborted.message).toContain(`falai wait ${ENDPOINT} ${requestId}`);
    expect(aborted.details).toMatchObject({
      requestId,
      endpointId: ENDPOINT,
      recorded: false,
      signal: 'SIGINT',
    });
    open();
  });

  it('a record that cannot be built from what fal answered keeps the id: STORE_ERROR naming it', async () => {
    // fal accepted it, and something in the answer will not go into a record.
    const odd: FalClient = Object.assign(Object.create(client) as FalClient, {
      submit: async (...args: Parameters<FalClient['submit']>) => ({
        ...(await client.submit(...args)),
        queuePosition: 'first' as unknown as number,
      }),
    });
    const store = createMemoryStore();
    const error = await submitAndRecord({
      endpointId: ENDPOINT,
      input: { prompt: 'odd answer' },
      registry,
      client: odd,
      store,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreError);
    const details = (error as StoreError).details as { requestId?: string; recorded?: boolean };
    expect(details.recorded).toBe(false);
    expect(emulator.job(details.requestId ?? '')).toBeDefined();
    expect((error as StoreError).message).toContain(`falai wait ${ENDPOINT} ${details.requestId}`);
  });

  it('a put that fails keeps the id: STORE_ERROR, or ABORTED when a signal waits', async () => {
    const quiet = gatedStore(new Error('disk on fire'));
    quiet.open();
    const plain = await submitAndRecord({
      endpointId: ENDPOINT,
      input: { prompt: 'no signal' },
      registry,
      client,
      store: quiet.store,
    }).catch((error: unknown) => error);
    expect(plain).toBeInstanceOf(StoreError);
    expect((plain as StoreError).message).toMatch(/could not be recorded \(.*disk on fire\)/);
    expect((plain as StoreError).details).toMatchObject({ recorded: false });

    const { store, putStarted, open } = gatedStore(new Error('disk on fire'));
    const pending = submitAndRecord({
      endpointId: ENDPOINT,
      input: { prompt: 'signal' },
      registry,
      client,
      store,
      signals: { replay: false, onInterrupt: () => undefined },
    }).catch((error: unknown) => error);
    await until(putStarted);
    process.kill(process.pid, 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 20));
    open();
    const error = await pending;
    expect(FalaiError.isInstance(error) && error.code).toBe('ABORTED');
    expect((error as FalaiError).details).toMatchObject({ signal: 'SIGTERM', recorded: false });
    expect((error as FalaiError).message).toMatch(/could not be recorded \(.*disk on fire\)/);
  });
});

/** A promise and the function that resolves it (Promise.withResolvers is Node 22+). */
function gate(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('criticalSection', () => {
  it("sets the program's listeners aside and puts them back, in nested sections too", async () => {
    const mine = () => undefined;
    process.on('SIGTERM', mine);
    try {
      const before = process.listenerCount('SIGTERM');
      await criticalSection(async () => {
        expect(process.listeners('SIGTERM')).not.toContain(mine);
        await criticalSection(async () => {
          expect(process.listenerCount('SIGTERM')).toBe(1);
        });
      });
      expect(process.listeners('SIGTERM')).toContain(mine);
      expect(process.listenerCount('SIGTERM')).toBe(before);
    } finally {
      process.removeListener('SIGTERM', mine);
    }
  });

  it('sections open at the same time share one listener and leave none behind', async () => {
    const mine = () => undefined;
    process.on('SIGINT', mine);
    try {
      const before = process.listenerCount('SIGINT');
      const gates = Array.from({ length: 20 }, () => gate());
      // Opened one after another, closed in another order (as a batch's submits finish).
      const sections = gates.map((gate) =>
        criticalSection(async () => {
          expect(process.listenerCount('SIGINT')).toBe(1);
          await gate.promise;
        }),
      );
      for (const index of [3, 0, 19, 7, 1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18])
        gates[index]?.resolve();
      await Promise.all(sections);
      expect(process.listeners('SIGINT')).toEqual([mine]);
      expect(process.listenerCount('SIGINT')).toBe(before);
    } finally {
      process.removeListener('SIGINT', mine);
    }
  });

  it('a signal held by concurrent sections reaches the program once, after the last one', async () => {
    const program: string[] = [];
    const mine = (signal: string) => program.push(signal);
    process.on('SIGINT', mine);
    try {
      const first = gate();
      const second = gate();
      const seen: string[] = [];
      const a = criticalSection(async () => first.promise, {
        onSignal: () => seen.push('a'),
      });
      const b = criticalSection(async () => second.promise, {
        onSignal: () => seen.push('b'),
      });
      process.kill(process.pid, 'SIGINT');
      await until(() => seen.length > 0);
      // The innermost (latest) section holds it; the older one closes meanwhile, untouched.
      expect(seen).toEqual(['b']);
      first.resolve();
      await a;
      second.resolve();
      await b;
      await until(() => program.length > 0);
      expect(program).toEqual(['SIGINT']);
      expect(seen).toEqual(['b']);
    } finally {
      process.removeListener('SIGINT', mine);
    }
  });

  it('sections opened after a signal never hold it: the program gets it once those open then end', async () => {
    const program: string[] = [];
    const mine = (signal: string) => program.push(signal);
    process.once('SIGINT', mine);
    try {
      const early = gate();
      const late = gate();
      let seenByA = false;
      const a = criticalSection(async () => early.promise, { onSignal: () => (seenByA = true) });
      process.kill(process.pid, 'SIGINT');
      // The signal has reached the open section (not a guess at how long delivery takes).
      await until(() => seenByA);
      // Opened after the signal, still open when the only section that saw it ends.
      const b = criticalSection(async () => late.promise);
      early.resolve();
      await a;
      await until(() => program.length > 0);
      expect(program).toEqual(['SIGINT']);
      late.resolve();
      await b;
      // The program's `once` listener was spent, not put back.
      expect(process.listeners('SIGINT')).not.toContain(mine);
    } finally {
      process.removeListener('SIGINT', mine);
    }
  });

  it('an inner section hands its signal to the outer one', async () => {
    const outer: string[] = [];
    await criticalSection(
      async (section) => {
        await criticalSection(async (inner) => {
          process.kill(process.pid, 'SIGINT');
          await until(() => inner.signal !== undefined);
          expect(outer).toEqual([]);
        });
        await until(() => section.signal !== undefined);
      },
      { replay: false, onSignal: (signal) => outer.push(signal) },
    );
    expect(outer).toEqual(['SIGINT']);
  });
});
