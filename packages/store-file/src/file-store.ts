import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import {
  type BudgetLedger,
  type ClaimOutcome,
  compareRecords,
  type HistoryQuery,
  matchesFilter,
  migrateSeedPending,
  type PendingFilter,
  type PendingPatch,
  type PendingRecord,
  type PendingStore,
  parseJsonExact,
  planClaim,
  planRelease,
  planRenew,
  planUpdate,
  prepareRecordForWrite,
  StoreError,
  type StoreRedactorOption,
  searchRecords,
  storeRedactor,
  type UpdateCondition,
  type UpdateOutcome,
} from '@falai/core/store-kit';
import { type BudgetCommitPoint, createFileBudget } from './budget-file.js';
import { createGroupCommit, LostLock, MAX_ATTEMPTS, type Outcome } from './commit.js';
import {
  type Entry,
  emptyJournal,
  entryOf,
  type JournalState,
  journalLine,
  parseFile,
  replay,
  serialise,
} from './format.js';
import {
  backupFile,
  type FileInfo,
  fileInfo,
  JournalWriter,
  journalPath,
  readJournalOn,
  readSnapshot,
  removeLeftovers,
  renameInto,
  resolveTarget,
  writeTemp,
} from './io.js';
import type { HeldLock } from './lock.js';

/**
 * Where a write is about to become visible: the snapshot rename or a journal append of the
 * records, or a change line or rewrite of the budget file.
 */
export type CommitPoint = 'snapshot' | 'journal' | BudgetCommitPoint;

/** Options of `createFileStore`. */
export interface FileStoreOptions extends StoreRedactorOption {
  /**
   * The JSON file. Use `settings.paths.pendingFile` (`resolveSettings` of `@falai/core`) for
   * the default (`FAL_PENDING_FILE`, the OpenClaw workspace's `fal-pending.json`, or
   * `~/.local/state/falai/pending.json`). A symlink stays a symlink: falai writes its target.
   */
  readonly path: string;
  /**
   * A lock not refreshed for this long belongs to a crashed or stalled process and is broken.
   * The holder refreshes it every quarter of this while it holds it.
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
  /**
   * The journal is folded into the snapshot once it passes this many bytes (or an eighth of
   * the snapshot, whichever is larger).
   * @default 262144
   */
  readonly compactBytes?: number;
  /** Called with what a seed migration could not map exactly (one line each). */
  readonly onWarning?: (message: string) => void;
  /**
   * For tests only: called right before a write becomes visible (after the temp file is
   * written, before the rename; before a journal append), so a test can pause the writer there.
   * Budget writes call it too, at `budget-rewrite` and `budget-append`.
   */
  readonly beforeCommit?: (point: CommitPoint) => void | Promise<void>;
}

/** Everything a reader knows about the file: the snapshot, the journal replayed on it. */
interface View {
  readonly target: string;
  readonly snapshot: FileInfo | undefined;
  readonly generation: string | undefined;
  readonly entries: Map<string, Entry>;
  readonly journal: JournalState;
  journalIno: number | undefined;
  /** The journal's size when last read (a torn tail past `journal.offset` included). */
  journalSize: number;
}

/** A view of a snapshot whose journal was not read yet. */
function viewOf(
  target: string,
  snapshot: FileInfo | undefined,
  generation: string | undefined,
  entries: Map<string, Entry>,
): View {
  return {
    target,
    snapshot,
    generation,
    entries,
    journal: emptyJournal(),
    journalIno: undefined,
    journalSize: 0,
  };
}

/** What a mutation sees: the current records plus the changes of the batch so far. */
interface Table {
  get(requestId: string): Entry | undefined;
  set(requestId: string, entry: Entry): void;
  delete(requestId: string): boolean;
}

type Mutation<T> = (table: Table) => { readonly result: T; readonly changed: boolean };

class Overlay implements Table {
  readonly changes = new Map<string, Entry | null>();
  constructor(private readonly base: ReadonlyMap<string, Entry>) {}
  get(requestId: string): Entry | undefined {
    const change = this.changes.get(requestId);
    return change === undefined ? this.base.get(requestId) : (change ?? undefined);
  }
  set(requestId: string, entry: Entry): void {
    this.changes.set(requestId, entry);
  }
  delete(requestId: string): boolean {
    if (this.get(requestId) === undefined) return false;
    this.changes.set(requestId, null);
    return true;
  }
  applyTo(entries: Map<string, Entry>): Map<string, Entry> {
    for (const [id, entry] of this.changes) {
      if (entry) entries.set(id, entry);
      else entries.delete(id);
    }
    return entries;
  }
}

/** A file store: a `PendingStore` plus a bulk insert, for imports and large migrations. */
export interface FileStore extends PendingStore {
  readonly kind: 'file';
  /** The budget ledger, in `<file>.budget` beside the records, under its own lock. */
  readonly budget: BudgetLedger;
  /** Inserts or replaces many records with one write (one lock, one rewrite). */
  putMany(records: readonly PendingRecord[]): Promise<void>;
  /** Folds the journal into the snapshot now (it also happens on its own as the journal grows). */
  compact(): Promise<void>;
}

/** Lines bigger than this are not appended: the batch rewrites the snapshot instead. */
const MAX_APPEND_BYTES = 1024 * 1024;

/**
 * The default store: a JSON snapshot plus an append-only journal beside it, under a
 * cross-process lock. Each write appends one line and syncs it; the journal is folded into the
 * snapshot (written to a temp file, renamed into place) as it grows. Good for one machine and
 * tens of thousands of requests; for several machines use Redis.
 */
export function createFileStore(options: FileStoreOptions): FileStore {
  const path = options.path;
  const redactor = storeRedactor(options);
  const lockStaleMs = Math.max(2_000, options.lockStaleMs ?? 10_000);
  const lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
  const fsync = options.fsync ?? true;
  const compactBytes = options.compactBytes ?? 256 * 1024;
  let cache: View | undefined;
  let closed = false;
  let leftoversChecked = false;
  // Where the data really lives (through a symlink), resolved once per store object.
  let resolved: Promise<string> | undefined;
  const targetOf = (): Promise<string> => {
    resolved ??= resolveTarget(path).catch((error) => {
      resolved = undefined;
      throw error;
    });
    return resolved;
  };
  const journalWriter = new JournalWriter();

  const fail = (operation: string, error: unknown): never => {
    if (error instanceof StoreError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const hint =
      code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? ' Check the permissions of the file and its directory.'
        : code === 'ELOCKED'
          ? ` Another falai process held the lock for over ${lockTimeoutMs} ms; if none is ` +
            `running, remove ${path}.lock.`
          : code === 'ENOSPC'
            ? ' The disk is full: free some space and retry.'
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

  /** Reads the journal of `view` from where it stopped; false when it must be read anew. */
  async function catchUp(view: View): Promise<boolean> {
    if (view.generation === undefined) return true;
    const file = journalPath(view.target, view.generation);
    const read = await readJournalOn(file, {
      ino: view.journalIno,
      size: view.journalSize,
      offset: view.journal.offset,
    });
    if (read === 'missing') return view.journal.offset === 0;
    if (read === 'replaced') return false;
    view.journalIno = read.ino;
    view.journalSize = read.size;
    replay(read.chunk, view.journal, view.generation, view.entries, file);
    return true;
  }

  /**
   * The current records: the snapshot (re-read only when it changed) and the journal lines
   * appended since. Takes no lock; the snapshot is checked again after the journal was read,
   * so a compaction in between cannot pair a new journal with an old snapshot.
   */
  async function load(locked?: {
    readonly target: string;
  }): Promise<View | { seed: unknown; target: string; info: FileInfo }> {
    const target = locked?.target ?? (await targetOf());
    for (let attempt = 0; attempt < 20; attempt++) {
      const info = await fileInfo(target);
      let view: View | undefined;
      if (
        cache &&
        cache.target === target &&
        info !== undefined &&
        cache.snapshot?.signature === info.signature
      ) {
        view = cache;
        // Only this object changes the cached view, and never while a write holds it.
        if (!(await catchUp(view).catch(dropCache))) view = undefined;
      }
      if (!view) {
        cache = undefined;
        const read = await readSnapshot(target);
        if (!read) {
          view = viewOf(target, undefined, undefined, new Map());
        } else {
          const parsed = parseFile(read.data, target);
          if (parsed.kind === 'seed') return { seed: parsed.json, target, info: read.info };
          view = viewOf(target, read.info, parsed.generation, parsed.entries);
          if (!(await catchUp(view))) continue;
        }
      }
      // Under the lock only a writer that broke it can change the snapshot, and every commit
      // checks for that; a lock-free reader checks here that it did not read across a rewrite.
      const after = locked ? view.snapshot : await fileInfo(target);
      if (after?.signature !== view.snapshot?.signature) {
        cache = undefined;
        continue;
      }
      cache = view.snapshot ? view : undefined;
      return view;
    }
    throw new StoreError(
      'STORE_ERROR',
      `The file store at ${path} kept changing while it was read; retry.`,
      { store: 'file', operation: 'read', location: path },
    );
  }

  function dropCache(error: unknown): never {
    cache = undefined;
    throw error;
  }

  function checkWritable(info: FileInfo | undefined, target: string): void {
    if (info && (info.mode & 0o200) === 0) {
      throw new StoreError(
        'STORE_ERROR',
        `The file store at ${target} is read-only (mode ${info.mode.toString(8).padStart(4, '0')}); ` +
          `falai changed nothing. Make it writable (chmod u+w ${target}) or choose another ` +
          'store with --store / FALAI_STORE.',
        { store: 'file', operation: 'write', location: target },
      );
    }
  }

  interface Pending {
    readonly operation: string;
    readonly change: Mutation<unknown>;
    readonly compact: boolean;
  }

  /**
   * One attempt at committing a batch under the lock. Throws `LostLock` when the lock was lost
   * (or the file changed under us) before the commit: nothing of ours became visible, and the
   * caller redoes the whole batch from the current file.
   */
  async function attempt(
    target: string,
    batch: readonly Pending[],
    lock: HeldLock,
  ): Promise<Outcome[]> {
    const state = await load({ target });
    let base: Map<string, Entry>;
    let mustCompact = batch.some((item) => item.compact);
    let view: View | undefined;
    if ('seed' in state) {
      checkWritable(state.info, target);
      const now = new Date();
      await backupFile(target, now).catch((error) => fail('back up the seed file', error));
      const { records, warnings } = migrateSeedPending(state.seed, { now, redactor });
      for (const warning of warnings) options.onWarning?.(`${path}: ${warning}`);
      base = new Map(records.map((record) => [record.requestId, entryOf(record)]));
      mustCompact = true;
    } else {
      view = state;
      checkWritable(view.snapshot, target);
      base = view.entries;
      if (!leftoversChecked) {
        leftoversChecked = true;
        await removeLeftovers(target, view.generation);
      }
    }
    const table = new Overlay(base);
    const outcomes: Outcome[] = [];
    let changed = false;
    for (const item of batch) {
      try {
        const outcome = item.change(table);
        changed ||= outcome.changed;
        outcomes.push({ ok: true, value: outcome.result });
      } catch (error) {
        outcomes.push({ ok: false, error });
      }
    }
    if (!changed && !mustCompact) return outcomes;

    const generation = view?.generation;
    const nonce = randomBytes(8).toString('hex');
    const line =
      view && generation !== undefined
        ? journalLine(generation, view.journal.count + 1, nonce, table.changes)
        : undefined;
    const journalBytes = view?.journal.offset ?? 0;
    const limit = Math.max(compactBytes, (view?.snapshot?.size ?? 0) / 8);
    if (
      !mustCompact &&
      view &&
      generation !== undefined &&
      line &&
      line.length <= MAX_APPEND_BYTES &&
      journalBytes + line.length <= limit
    ) {
      await appendLine(view, generation, line, nonce, table, lock);
    } else {
      const entries = table.applyTo(view ? new Map(base) : base);
      const before = 'seed' in state ? state.info : view?.snapshot;
      const journal =
        view && generation !== undefined
          ? { file: journalPath(target, generation), size: view.journalSize }
          : undefined;
      await writeSnapshot(target, before, journal, entries, lock);
    }
    return outcomes;
  }

  async function appendLine(
    view: View,
    generation: string,
    line: Buffer,
    nonce: string,
    table: Overlay,
    lock: HeldLock,
  ): Promise<void> {
    const file = journalPath(view.target, generation);
    const data = view.journal.clean ? line : Buffer.concat([Buffer.from('\n'), line]);
    // Where the line was counted from; a read by this process meanwhile moves the view on.
    const offset = view.journal.offset;
    const count = view.journal.count;
    const size = view.journalSize;
    await options.beforeCommit?.('journal');
    if (!(await lock.verify(false))) throw new LostLock();
    const expected = size + data.length;
    const written = await journalWriter.append(file, data, view.snapshot?.mode ?? 0o600, fsync);
    const snapshotNow = await fileInfo(view.target);
    const sameFile =
      view.journal.offset === offset &&
      view.journal.count === count &&
      view.journalSize === size &&
      (view.journalIno === undefined || written.ino === view.journalIno) &&
      written.size === expected &&
      snapshotNow?.signature === view.snapshot?.signature;
    if (sameFile) {
      // Nothing else was appended before ours: it is line n, valid for every reader.
      table.applyTo(view.entries);
      view.journal.offset = expected;
      view.journalSize = expected;
      view.journal.count++;
      view.journal.clean = true;
      view.journal.doubtful = undefined;
      view.journal.applied.add(nonce);
      view.journalIno = written.ino;
      if (cache !== view) cache = undefined;
      return;
    }
    // Someone else wrote meanwhile (we had lost the lock): our line counts only if the replay
    // of the current file applies it. Read everything again and look.
    cache = undefined;
    const now = await load();
    if ('seed' in now || !now.journal.applied.has(nonce)) throw new LostLock();
  }

  async function writeSnapshot(
    target: string,
    before: FileInfo | undefined,
    journal: { readonly file: string; readonly size: number } | undefined,
    entries: Map<string, Entry>,
    lock: HeldLock,
  ): Promise<void> {
    const generation = randomBytes(8).toString('hex');
    const data = serialise(entries.values(), generation);
    const temp = await writeTemp(target, data, before?.mode ?? 0o600, before, fsync);
    try {
      await options.beforeCommit?.('snapshot');
      // Compare-and-swap on the file's identity: the lock must still be ours and fresh, the
      // snapshot exactly the one we read, and its journal not grown since, or nothing is renamed.
      if (!(await lock.verify())) throw new LostLock();
      if ((await fileInfo(target))?.signature !== before?.signature) throw new LostLock();
      if (journal && ((await fileInfo(journal.file))?.size ?? 0) !== journal.size) {
        throw new LostLock();
      }
      try {
        await renameInto(temp, target, fsync);
      } catch (error) {
        // Our temp file was removed by a writer that broke our lock.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new LostLock();
        throw error;
      }
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    const info = await fileInfo(target);
    cache = info ? viewOf(target, info, generation, entries) : undefined;
    await removeLeftovers(target, generation);
  }

  const commits = createGroupCommit<Pending>({
    file: targetOf,
    lock: { staleMs: lockStaleMs, timeoutMs: lockTimeoutMs },
    location: path,
    batchOperation: 'write',
    attempt,
    fail,
    conflictMessage:
      `The file store at ${path} lost its lock ${MAX_ATTEMPTS} times in a row while ` +
      'writing (the process was paused, or the disk stalled, for longer than the ' +
      `${lockStaleMs} ms stale-lock period); nothing of this write was committed. Retry.`,
    onAbort: () => {
      cache = undefined;
    },
  });

  function mutate<T>(operation: string, change: Mutation<T>, compact = false): Promise<T> {
    guard(operation);
    return commits.enqueue({
      operation,
      change: change as Mutation<unknown>,
      compact,
    }) as Promise<T>;
  }

  async function current(operation: string): Promise<Map<string, Entry>> {
    guard(operation);
    let state: Awaited<ReturnType<typeof load>>;
    try {
      state = await load();
    } catch (error) {
      cache = undefined;
      return fail(operation, error);
    }
    if ('seed' in state) {
      await mutate('migrate the seed file', () => ({ result: undefined, changed: false }));
      return current(operation);
    }
    return state.entries;
  }

  const copy = (entry: Entry): PendingRecord => parseJsonExact(entry.json) as PendingRecord;
  const context = (operation: string) => ({ store: 'file', operation, location: path });
  const budget = createFileBudget({
    redactor,
    target: targetOf,
    path,
    lockStaleMs,
    lockTimeoutMs,
    fsync,
    compactBytes,
    guard,
    fail,
    ...(options.beforeCommit ? { beforeCommit: options.beforeCommit } : {}),
  });

  return {
    kind: 'file',
    location: path,
    capabilities: { crossProcess: true, crossMachine: false, durable: true, retention: false },
    budget: budget.ledger,

    async put(record: PendingRecord): Promise<void> {
      const valid = prepareRecordForWrite(record, context('put'), redactor);
      const entry = entryOf(valid);
      await mutate('put', (table) => {
        table.set(valid.requestId, entry);
        return { result: undefined, changed: true };
      });
    },

    async putMany(records: readonly PendingRecord[]): Promise<void> {
      const valid = records.map((record) =>
        entryOf(prepareRecordForWrite(record, context('put'), redactor)),
      );
      await mutate('put', (table) => {
        for (const entry of valid) table.set(entry.record.requestId, entry);
        return { result: undefined, changed: valid.length > 0 };
      });
    },

    async compact(): Promise<void> {
      await mutate('compact', () => ({ result: undefined, changed: false }), true);
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

    /**
     * History search by a scan of every record (they are all in memory once read): fine for
     * tens of thousands of records; see the README for where it gets slow.
     */
    async search(query: HistoryQuery): Promise<PendingRecord[]> {
      return searchRecords((await current('search')).values(), query, (entry) => entry.record).map(
        copy,
      );
    },

    update(
      requestId: string,
      patch: PendingPatch,
      condition?: UpdateCondition,
    ): Promise<UpdateOutcome> {
      return mutate<UpdateOutcome>('update', (table) => {
        const outcome = planUpdate(table.get(requestId)?.record, patch, condition, redactor);
        if (outcome.kind !== 'updated') return { result: outcome, changed: false };
        table.set(requestId, entryOf(outcome.record));
        return { result: outcome, changed: true };
      });
    },

    remove(requestId: string): Promise<boolean> {
      return mutate('remove', (table) => {
        const removed = table.delete(requestId);
        return { result: removed, changed: removed };
      });
    },

    claim(requestId: string, owner: string, ttlMs: number): Promise<ClaimOutcome> {
      return mutate<ClaimOutcome>('claim', (table) => {
        const outcome = planClaim(table.get(requestId)?.record, owner, ttlMs);
        if (outcome.kind !== 'claimed') return { result: outcome, changed: false };
        table.set(requestId, entryOf(outcome.record));
        return { result: outcome, changed: true };
      });
    },

    renew(requestId: string, owner: string, ttlMs: number): Promise<boolean> {
      return mutate('renew', (table) => {
        const next = planRenew(table.get(requestId)?.record, owner, ttlMs);
        if (next) table.set(requestId, entryOf(next));
        return { result: next !== undefined, changed: next !== undefined };
      });
    },

    release(requestId: string, owner: string): Promise<boolean> {
      return mutate('release', (table) => {
        const next = planRelease(table.get(requestId)?.record, owner);
        if (next) table.set(requestId, entryOf(next));
        return { result: next !== undefined, changed: next !== undefined };
      });
    },

    async close(): Promise<void> {
      closed = true;
      await commits.idle();
      await budget.close();
      await journalWriter.close();
      cache = undefined;
    },
  };
}

/** The environment variable of `testHooksFromEnv`. */
const TEST_STOP_VARIABLE = 'FALAI_TEST_STORE_STOP';

/**
 * For falai's own reliability tests, never for use: with `FALAI_TEST_STORE_STOP=snapshot` (or
 * `journal`, or `commit` for either) the first such commit of this process prints
 * `falai-test: store commit stopped (<point>)` on stderr and stops the process with SIGSTOP
 * right before the write becomes visible, so a test can hold a writer there (as a laptop
 * suspend would) and let it go with SIGCONT. Without the variable: no options at all.
 */
export function testHooksFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): Pick<FileStoreOptions, 'beforeCommit'> {
  const wanted = env[TEST_STOP_VARIABLE]?.trim();
  if (wanted !== 'snapshot' && wanted !== 'journal' && wanted !== 'commit') return {};
  let stopped = false;
  return {
    beforeCommit: (point) => {
      // `commit` means a records commit: budget writes never stop here.
      const records = point === 'snapshot' || point === 'journal';
      if (stopped || !records || (wanted !== 'commit' && wanted !== point)) return;
      stopped = true;
      process.stderr.write(`falai-test: store commit stopped (${point})\n`);
      process.kill(process.pid, 'SIGSTOP');
    },
  };
}
