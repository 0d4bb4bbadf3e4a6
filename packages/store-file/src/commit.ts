import { StoreError } from '@falai/core/store-kit';
import { ensureParent } from './io.js';
import { acquireLock, type HeldLock, type LockOptions } from './lock.js';

/**
 * Thrown by an attempt when the lock was lost (or the file changed under it) before its commit:
 * nothing of the batch became visible, and the whole batch is decided again from the file.
 */
export class LostLock extends Error {}

/** A writer that loses its lock this many times in a row gives up with `STORE_CONFLICT`. */
export const MAX_ATTEMPTS = 8;

/** What one queued item came to: its result, or the error it alone raised. */
export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** How `createGroupCommit` commits. */
export interface GroupCommitOptions<Item extends { readonly operation: string }> {
  /** The file the lock guards (its lock is `<file>.lock`), resolved again for each attempt. */
  readonly file: () => Promise<string>;
  readonly lock: LockOptions;
  /** Where the store lives, for the `STORE_CONFLICT` error. */
  readonly location: string;
  /** The operation a batch of several items is reported as. */
  readonly batchOperation: string;
  /**
   * One attempt at committing `batch` under `lock`: an outcome per item, in order. Throws
   * `LostLock` to have the batch decided again; any other error fails the whole batch.
   */
  readonly attempt: (
    file: string,
    batch: readonly Item[],
    lock: HeldLock,
    operation: string,
  ) => Promise<Outcome[]>;
  /** Turns an error of an attempt into the store's error (throws it). */
  readonly fail: (operation: string, error: unknown) => never;
  /** The message of the `STORE_CONFLICT` after `MAX_ATTEMPTS` lost locks in a row. */
  readonly conflictMessage: string;
  /** Called when an attempt did not commit (lost lock or error): drop what was read under it. */
  readonly onAbort: () => void;
}

/** A group-commit queue: see `createGroupCommit`. */
export interface GroupCommit<Item> {
  /** Queues `item`; resolves with its outcome once the batch it went into is committed. */
  enqueue(item: Item): Promise<unknown>;
  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void>;
}

/**
 * Group commit: items queued while a commit is in flight are committed together, in order,
 * under one lock and one write. Each still sees the result of the ones before it, exactly as if
 * they ran one by one, and resolves only once its change is on disk. A batch whose lock was lost
 * before its commit is decided again from the current file, up to `MAX_ATTEMPTS` times.
 */
export function createGroupCommit<Item extends { readonly operation: string }>(
  options: GroupCommitOptions<Item>,
): GroupCommit<Item> {
  interface Queued {
    readonly item: Item;
    readonly resolve: (value: unknown) => void;
    readonly reject: (error: unknown) => void;
  }
  let pending: Queued[] = [];
  let draining: Promise<void> | undefined;

  async function lockFile(file: string): Promise<HeldLock> {
    try {
      return await acquireLock(`${file}.lock`, options.lock);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await ensureParent(file);
      return acquireLock(`${file}.lock`, options.lock);
    }
  }

  async function commit(batch: readonly Item[], operation: string): Promise<Outcome[]> {
    for (let round = 1; round <= MAX_ATTEMPTS; round++) {
      let lock: HeldLock | undefined;
      try {
        const file = await options.file();
        lock = await lockFile(file);
        return await options.attempt(file, batch, lock, operation);
      } catch (error) {
        options.onAbort();
        if (!(error instanceof LostLock)) options.fail(operation, error);
      } finally {
        await lock?.release();
      }
    }
    throw new StoreError('STORE_CONFLICT', options.conflictMessage, {
      store: 'file',
      operation,
      location: options.location,
    });
  }

  async function drain(): Promise<void> {
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      const operation =
        batch.length === 1
          ? (batch[0]?.item.operation ?? options.batchOperation)
          : options.batchOperation;
      let outcomes: Outcome[];
      try {
        outcomes = await commit(
          batch.map((queued) => queued.item),
          operation,
        );
      } catch (failure) {
        for (const queued of batch) queued.reject(failure);
        continue;
      }
      batch.forEach((queued, i) => {
        const outcome = outcomes[i];
        if (outcome?.ok) queued.resolve(outcome.value);
        else queued.reject(outcome?.error);
      });
    }
  }

  function kick(): void {
    if (draining) return;
    // Items queued after the loop's last check but before this settles are picked up here.
    draining = drain().finally(() => {
      draining = undefined;
      if (pending.length > 0) kick();
    });
  }

  return {
    enqueue(item) {
      return new Promise((resolve, reject) => {
        pending.push({ item, resolve, reject });
        kick();
      });
    },
    async idle() {
      while (draining) await draining;
    },
  };
}
