import {
  type ClaimOutcome,
  compareRecords,
  matchesFilter,
  migrateSeedPending,
  type PendingFilter,
  type PendingPatch,
  type PendingRecord,
  type PendingStore,
  planClaim,
  planRelease,
  planRenew,
  planUpdate,
  prepareRecordForWrite,
  StoreError,
  type UpdateCondition,
  type UpdateOutcome,
} from '@falai/core';
import { type Entry, entryOf, parseFile, serialise } from './format.js';
import {
  atomicWrite,
  backupFile,
  ensureParent,
  readWithSignature,
  removeStaleTemps,
  signatureOf,
} from './io.js';

/** Options of `createFileStore`. */
export interface FileStoreOptions {
  /**
   * The JSON file. Use `defaultPendingFile()` from `@falai/core` for the default
   * (`FAL_PENDING_FILE`, the OpenClaw workspace's `fal-pending.json`, or
   * `~/.local/state/falai/pending.json`).
   */
  readonly path: string;
  /**
   * A lock older than this is taken to belong to a crashed process and is broken.
   * @default 10000
   */
  readonly lockStaleMs?: number;
  /**
   * How long a write waits for another process's lock before failing with `STORE_ERROR`.
   * @default 30000
   */
  readonly lockTimeoutMs?: number;
  /**
   * fsync the data and the directory on every write. Turning it off trades crash safety
   * for speed; only tests and throwaway stores should.
   * @default true
   */
  readonly fsync?: boolean;
  /** Called with what a seed migration could not map exactly (one line each). */
  readonly onWarning?: (message: string) => void;
}

interface State {
  readonly signature: string | undefined;
  readonly entries: Map<string, Entry>;
}

type Mutation<T> = (entries: Map<string, Entry>) => {
  readonly result: T;
  readonly changed: boolean;
};

/** A file store: a `PendingStore` plus a bulk insert, for imports and large migrations. */
export interface FileStore extends PendingStore {
  readonly kind: 'file';
  /** Inserts or replaces many records with one write (one lock, one rewrite). */
  putMany(records: readonly PendingRecord[]): Promise<void>;
}

/**
 * The default store: one JSON file, replaced atomically under a cross-process lock.
 * Good for one machine and thousands of requests; for several machines use Redis.
 */
export function createFileStore(options: FileStoreOptions): FileStore {
  const path = options.path;
  const lockStaleMs = Math.max(2_000, options.lockStaleMs ?? 10_000);
  const lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
  const fsync = options.fsync ?? true;
  let cache: State | undefined;
  let closed = false;
  let tempsChecked = false;

  const fail = (operation: string, error: unknown): never => {
    if (error instanceof StoreError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const hint =
      code === 'EACCES' || code === 'EPERM'
        ? ' Check the permissions of the file and its directory.'
        : code === 'ELOCKED'
          ? ` Another falai process held the lock for over ${lockTimeoutMs} ms; if none is ` +
            `running, remove ${path}.lock.`
          : '';
    throw new StoreError(
      'STORE_ERROR',
      `The file store at ${path} failed to ${operation}: ${(error as Error).message}.${hint}`,
      { store: 'file', operation, location: path, cause: error },
    );
  };

  const guard = (operation: string) => {
    if (closed) {
      throw new StoreError('STORE_ERROR', `The file store at ${path} was closed; open it again.`, {
        store: 'file',
        operation,
        location: path,
      });
    }
  };

  /** The current records, re-read only when the file changed since we last saw it. */
  async function load(): Promise<State | { seed: unknown }> {
    // One stat is enough to confirm the cache; the read below re-checks on the descriptor.
    if (cache?.signature !== undefined && (await signatureOf(path)) === cache.signature) {
      return cache;
    }
    const read = await readWithSignature(path, cache?.signature);
    if (!read) {
      cache = { signature: undefined, entries: new Map() };
      return cache;
    }
    if (read.text === undefined && cache) return cache;
    const parsed = parseFile(read.text ?? '', path);
    if (parsed.kind === 'seed') return { seed: parsed.json };
    cache = { signature: read.signature, entries: parsed.entries };
    return cache;
  }

  /** Holds the cross-process lock around `fn`; the in-process batching keeps one holder. */
  async function withFileLock<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    await ensureParent(path).catch((error) => fail(operation, error));
    const lockfile = await import('proper-lockfile');
    let compromised: Error | undefined;
    const interval = 25;
    const release = await lockfile
      .lock(path, {
        realpath: false,
        stale: lockStaleMs,
        update: Math.floor(lockStaleMs / 2),
        retries: {
          retries: Math.ceil(lockTimeoutMs / interval),
          minTimeout: 2,
          maxTimeout: interval,
          factor: 1.5,
          randomize: true,
        },
        onCompromised: (error) => {
          compromised = error;
        },
      })
      .catch((error) => fail(operation, error));
    try {
      if (!tempsChecked) {
        tempsChecked = true;
        await removeStaleTemps(path);
      }
      const result = await fn();
      if (compromised) fail(operation, compromised);
      return result;
    } finally {
      await release().catch(() => undefined);
    }
  }

  interface Pending {
    readonly operation: string;
    readonly change: Mutation<unknown>;
    readonly resolve: (value: unknown) => void;
    readonly reject: (error: unknown) => void;
  }
  let pending: Pending[] = [];
  let draining: Promise<void> | undefined;

  /**
   * Group commit: mutations queued while a write is in flight are applied together, in order,
   * under one lock and one atomic write. Each still sees the result of the ones before it,
   * exactly as if they ran one by one, and resolves only once its change is on disk.
   */
  async function drain(): Promise<void> {
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      const operation = batch.length === 1 ? (batch[0]?.operation ?? 'write') : 'write';
      const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
      try {
        await withFileLock(operation, async () => {
          let state: State | { seed: unknown };
          try {
            state = await load();
          } catch (error) {
            return fail(operation, error);
          }
          let entries: Map<string, Entry>;
          let changed = false;
          if ('seed' in state) {
            const now = new Date();
            await backupFile(path, now).catch((error) => fail('back up the seed file', error));
            const { records, warnings } = migrateSeedPending(state.seed, { now });
            for (const warning of warnings) options.onWarning?.(`${path}: ${warning}`);
            entries = new Map(records.map((record) => [record.requestId, entryOf(record)]));
            changed = true;
          } else {
            // Changed in place: on any failure below the cache is dropped and re-read from disk.
            entries = state.entries;
          }
          for (const item of batch) {
            try {
              const outcome = item.change(entries);
              changed ||= outcome.changed;
              outcomes.push({ ok: true, value: outcome.result });
            } catch (error) {
              outcomes.push({ ok: false, error });
            }
          }
          cache = undefined;
          if (changed) {
            try {
              await atomicWrite(path, serialise(entries.values()), fsync);
            } catch (error) {
              fail(operation, error);
            }
          }
          cache = { signature: await signatureOf(path), entries };
        });
      } catch (error) {
        cache = undefined;
        for (const item of batch) item.reject(error);
        continue;
      }
      batch.forEach((item, i) => {
        const outcome = outcomes[i];
        if (outcome?.ok) item.resolve(outcome.value);
        else item.reject(outcome?.error);
      });
    }
  }

  function mutate<T>(operation: string, change: Mutation<T>): Promise<T> {
    guard(operation);
    return new Promise<T>((resolve, reject) => {
      pending.push({
        operation,
        change: change as Mutation<unknown>,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      kick();
    });
  }

  function kick(): void {
    if (draining) return;
    // Items queued after the loop's last check but before this settles are picked up here.
    draining = drain().finally(() => {
      draining = undefined;
      if (pending.length > 0) kick();
    });
  }

  async function current(operation: string): Promise<Map<string, Entry>> {
    guard(operation);
    let state: State | { seed: unknown };
    try {
      state = await load();
    } catch (error) {
      return fail(operation, error);
    }
    if ('seed' in state) {
      await mutate('migrate the seed file', () => ({ result: undefined, changed: false }));
      return current(operation);
    }
    return state.entries;
  }

  const copy = (entry: Entry): PendingRecord => JSON.parse(entry.json) as PendingRecord;
  const context = (operation: string) => ({ store: 'file', operation, location: path });

  return {
    kind: 'file',
    location: path,
    capabilities: { crossProcess: true, crossMachine: false, durable: true, retention: false },

    async put(record: PendingRecord): Promise<void> {
      const valid = prepareRecordForWrite(record, context('put'));
      const entry = entryOf(valid);
      await mutate('put', (entries) => {
        entries.set(valid.requestId, entry);
        return { result: undefined, changed: true };
      });
    },

    async putMany(records: readonly PendingRecord[]): Promise<void> {
      const valid = records.map((record) => entryOf(prepareRecordForWrite(record, context('put'))));
      await mutate('put', (entries) => {
        for (const entry of valid) entries.set(entry.record.requestId, entry);
        return { result: undefined, changed: valid.length > 0 };
      });
    },

    async get(requestId: string): Promise<PendingRecord | undefined> {
      const entry = (await current('get')).get(requestId);
      return entry ? copy(entry) : undefined;
    },

    async list(filter: PendingFilter = {}): Promise<PendingRecord[]> {
      const entries = [...(await current('list')).values()]
        .filter((entry) => matchesFilter(entry.record, filter))
        .sort((a, b) => compareRecords(a.record, b.record));
      return (filter.limit === undefined ? entries : entries.slice(0, filter.limit)).map(copy);
    },

    update(
      requestId: string,
      patch: PendingPatch,
      condition?: UpdateCondition,
    ): Promise<UpdateOutcome> {
      return mutate<UpdateOutcome>('update', (entries) => {
        const outcome = planUpdate(entries.get(requestId)?.record, patch, condition);
        if (outcome.kind !== 'updated') return { result: outcome, changed: false };
        entries.set(requestId, entryOf(outcome.record));
        return { result: outcome, changed: true };
      });
    },

    remove(requestId: string): Promise<boolean> {
      return mutate('remove', (entries) => {
        const removed = entries.delete(requestId);
        return { result: removed, changed: removed };
      });
    },

    claim(requestId: string, owner: string, ttlMs: number): Promise<ClaimOutcome> {
      return mutate<ClaimOutcome>('claim', (entries) => {
        const outcome = planClaim(entries.get(requestId)?.record, owner, ttlMs);
        if (outcome.kind !== 'claimed') return { result: outcome, changed: false };
        entries.set(requestId, entryOf(outcome.record));
        return { result: outcome, changed: true };
      });
    },

    renew(requestId: string, owner: string, ttlMs: number): Promise<boolean> {
      return mutate('renew', (entries) => {
        const next = planRenew(entries.get(requestId)?.record, owner, ttlMs);
        if (next) entries.set(requestId, entryOf(next));
        return { result: next !== undefined, changed: next !== undefined };
      });
    },

    release(requestId: string, owner: string): Promise<boolean> {
      return mutate('release', (entries) => {
        const next = planRelease(entries.get(requestId)?.record, owner);
        if (next) entries.set(requestId, entryOf(next));
        return { result: next !== undefined, changed: next !== undefined };
      });
    },

    async close(): Promise<void> {
      closed = true;
      while (draining) await draining;
      cache = undefined;
    },
  };
}
