import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import {
  BudgetBook,
  type BudgetChange,
  type BudgetEntry,
  type BudgetLedger,
  type BudgetScopeSnapshot,
  corruptError,
  createBookLedger,
  type Redactor,
  type StoreContext,
  StoreError,
} from '@falai/core/store-kit';
import { createGroupCommit, LostLock, MAX_ATTEMPTS, type Outcome } from './commit.js';
import { emptyJournal, type JournalState, lines, MAX_LINE_BYTES, replayLines } from './format.js';
import {
  ensureParent,
  fileInfo,
  readJournal,
  readJournalOn,
  removeLeftovers,
  renameInto,
  writeTemp,
} from './io.js';
import type { HeldLock } from './lock.js';

/**
 * The budget file's format version. The file, `<store file>.budget`, is JSON lines:
 *
 * 1. a header `{"falaiBudget":1,"g":"<generation>","scopes":<k>}`;
 * 2. `k` scope lines `{"scope":…,"until":<ms>,"r":[[key,micros,expiresAt]…],"s":[[key,micros]…]}`
 *    (the state when the file was last rewritten, written whole by a rename);
 * 3. change lines appended since, `{"g":…,"n":<i>,"id":<nonce>,"c":[[scope,key,entry,until]…]}`,
 *    `entry` being `["r",micros,expiresAt]`, `["s",micros]` or `null`.
 *
 * A change line counts only when its `g` is the file's and its `n` follows the last line
 * counted, so a line appended by a writer that lost the lock (and counted from an older view)
 * counts for nobody. A torn last line was never acknowledged (the writer syncs before it
 * answers); an unreadable line that a later line counts past is damage: `STORE_CORRUPT`.
 */
const BUDGET_FORMAT_VERSION = 1;

/** The budget file beside the store file. */
function budgetPath(target: string): string {
  return `${target}.budget`;
}

/** Where the replay of the budget file stands, kept between reads while the file is the same. */
interface View {
  readonly file: string;
  readonly ino: number;
  readonly generation: string;
  readonly book: BudgetBook;
  /** Bytes of the rewritten part (header and scope lines). */
  readonly base: number;
  /** The file's size when last read (a torn tail past `journal.offset` included). */
  size: number;
  /** The replay of the change lines (`offset` counts from the start of the file). */
  readonly journal: JournalState;
}

const isInt = (value: unknown): value is number => Number.isSafeInteger(value);

function parseEntry(value: unknown): BudgetEntry | null | undefined {
  if (value === null) return null;
  if (!Array.isArray(value)) return undefined;
  const [state, micros, expiresAt] = value as unknown[];
  if (!isInt(micros) || micros < 0) return undefined;
  if (state === 's' && value.length === 2) return { state: 'settled', micros };
  if (state === 'r' && value.length === 3 && isInt(expiresAt)) {
    return { state: 'reserved', micros, expiresAt };
  }
  return undefined;
}

function entryJson(entry: BudgetEntry | null): unknown {
  if (entry === null) return null;
  return entry.state === 'settled' ? ['s', entry.micros] : ['r', entry.micros, entry.expiresAt];
}

function parseChanges(value: unknown): BudgetChange[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: BudgetChange[] = [];
  for (const item of value) {
    if (!Array.isArray(item) || item.length !== 4) return undefined;
    const [scope, requestKey, raw, retainUntil] = item as unknown[];
    const entry = parseEntry(raw);
    if (typeof scope !== 'string' || typeof requestKey !== 'string') return undefined;
    if (entry === undefined || !isInt(retainUntil)) return undefined;
    out.push({ scope, requestKey, entry, retainUntil });
  }
  return out;
}

function parseScope(value: unknown): BudgetScopeSnapshot | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { scope, until, r, s } = value as Record<string, unknown>;
  if (typeof scope !== 'string' || !isInt(until) || !Array.isArray(r) || !Array.isArray(s)) {
    return undefined;
  }
  const reservations: [string, number, number][] = [];
  for (const item of r) {
    if (!Array.isArray(item) || item.length !== 3) return undefined;
    const [key, micros, expiresAt] = item as unknown[];
    if (typeof key !== 'string' || !isInt(micros) || micros < 0 || !isInt(expiresAt)) {
      return undefined;
    }
    reservations.push([key, micros, expiresAt]);
  }
  const settled: [string, number][] = [];
  for (const item of s) {
    if (!Array.isArray(item) || item.length !== 2) return undefined;
    const [key, micros] = item as unknown[];
    if (typeof key !== 'string' || !isInt(micros) || micros < 0) return undefined;
    settled.push([key, micros]);
  }
  return { scope, retainUntil: until, reservations, settled };
}

/**
 * Applies the complete change lines of `chunk` (the file's bytes from `view.journal.offset`);
 * see the format above.
 */
function replay(chunk: Buffer, view: View, context: StoreContext): void {
  const ctx = { ...context, location: view.file };
  replayLines(chunk, view.journal, view.generation, ctx, 'budget', (line, at) => {
    const changes = parseChanges(line.c);
    if (!changes || typeof line.id !== 'string') {
      throw corruptError({ ...context, location: at }, 'a budget line without valid changes');
    }
    for (const change of changes) view.book.apply(change);
  });
}

/** Whether `buffer` holds nothing but whitespace (an empty file), without decoding it whole. */
function isBlank(buffer: Buffer): boolean {
  for (const byte of buffer) {
    // Space, \t, \n, \v, \f, \r.
    if (byte !== 0x20 && (byte < 0x09 || byte > 0x0d)) return false;
  }
  return true;
}

/** Parses the whole budget file: header, scope lines, then the change lines. */
function parse(buffer: Buffer, file: string, ino: number, context: StoreContext): View {
  const book = new BudgetBook();
  const empty = (): View => ({
    file,
    ino,
    generation: '',
    book,
    base: 0,
    size: buffer.length,
    journal: { ...emptyJournal(), offset: buffer.length },
  });
  if (isBlank(buffer)) return empty();
  const all = lines(buffer);
  /** The JSON of line `i` (from 0), or `undefined` when it is missing, unterminated or invalid. */
  const json = (i: number): { value: unknown; end: number } | undefined => {
    const next = all.next();
    if (next.done) return undefined;
    const [start, end, complete] = next.value;
    if (end - start > MAX_LINE_BYTES) {
      throw corruptError(
        { ...context, location: `${file} (line ${i + 1})` },
        `a budget line over ${MAX_LINE_BYTES / 1024 / 1024} MB`,
      );
    }
    if (!complete) return undefined;
    try {
      return { value: JSON.parse(buffer.toString('utf8', start, end)), end };
    } catch {
      return undefined;
    }
  };
  const first = json(0);
  const header = first?.value as
    | { falaiBudget?: unknown; g?: unknown; scopes?: unknown }
    | undefined;
  if (isInt(header?.falaiBudget) && header.falaiBudget > BUDGET_FORMAT_VERSION) {
    throw new StoreError(
      'STORE_ERROR',
      `${file} was written by a newer falai (budget format ${header.falaiBudget}; this one reads ` +
        `up to ${BUDGET_FORMAT_VERSION}). Upgrade falai, or point FALAI_STORE at another file.`,
      { ...context },
    );
  }
  if (
    !first ||
    header?.falaiBudget !== BUDGET_FORMAT_VERSION ||
    typeof header.g !== 'string' ||
    !/^[0-9a-f]{1,64}$/.test(header.g) ||
    !isInt(header.scopes) ||
    header.scopes < 0
  ) {
    throw corruptError({ ...context, location: `${file} (line 1)` }, 'not a falai budget header');
  }
  let base = first.end + 1;
  for (let i = 1; i <= header.scopes; i++) {
    const line = json(i);
    const scope = line ? parseScope(line.value) : undefined;
    if (!line || !scope) {
      throw corruptError(
        { ...context, location: `${file} (line ${i + 1})` },
        'a budget scope line is damaged or missing',
      );
    }
    book.restore(scope);
    base = line.end + 1;
  }
  const view: View = {
    ...empty(),
    generation: header.g,
    base,
    journal: { ...emptyJournal(), offset: base },
  };
  replay(buffer.subarray(base), view, context);
  return view;
}

/** Where a budget write is about to become visible: a change line, or a rewrite's rename. */
export type BudgetCommitPoint = 'budget-append' | 'budget-rewrite';

/** How the file store's budget ledger is set up. */
export interface FileBudgetOptions {
  /** The store's redactor: a scope or request key holding one of its keys is refused. */
  readonly redactor: Redactor;
  /** The store file's real path (symlinks resolved). */
  readonly target: () => Promise<string>;
  /** The store file as the user named it (for messages). */
  readonly path: string;
  readonly lockStaleMs: number;
  readonly lockTimeoutMs: number;
  readonly fsync: boolean;
  /** Rewrites the file once the appended lines pass this many bytes (or the rewritten part). */
  readonly compactBytes: number;
  /** Throws when the store was closed. */
  readonly guard: (operation: string) => void;
  /** Turns an I/O error into the store's `STORE_ERROR` (rethrows `StoreError`s). */
  readonly fail: (operation: string, error: unknown) => never;
  /** For tests only: called right before a budget write becomes visible (see `FileStoreOptions`). */
  readonly beforeCommit?: (point: BudgetCommitPoint) => void | Promise<void>;
}

/**
 * The file store's budget ledger: `<store file>.budget`, under its own lock
 * (`<store file>.budget.lock`, the same heartbeat lock as the records) so budget decisions never
 * wait for record writes. Decisions queued while one is in flight are decided together, in
 * order, under one lock and one synced append (group commit).
 */
export function createFileBudget(options: FileBudgetOptions): {
  readonly ledger: BudgetLedger;
  close(): Promise<void>;
} {
  let cache: View | undefined;
  interface Pending {
    readonly operation: string;
    readonly decide: (
      book: BudgetBook,
      now: number,
    ) => { result: unknown; changes: readonly BudgetChange[] };
  }

  const context = (operation: string, file: string): StoreContext => ({
    store: 'file',
    operation,
    location: file,
  });

  /**
   * The current view of the file (under the lock): the cached one caught up with the lines
   * appended since (a read of those bytes only), or, when the file was rewritten, a full read.
   */
  async function load(file: string, operation: string): Promise<View | undefined> {
    const ctx = context(operation, file);
    if (cache && cache.file === file) {
      const read = await readJournalOn(file, {
        ino: cache.ino,
        size: cache.size,
        offset: cache.journal.offset,
      });
      if (read === 'missing') {
        cache = undefined;
        return undefined;
      }
      if (read !== 'replaced') {
        cache.size = read.size;
        replay(read.chunk, cache, ctx);
        return cache;
      }
    }
    cache = undefined;
    const read = await readJournal(file, 0);
    if (!read) return undefined;
    cache = parse(read.chunk, file, read.ino, ctx);
    return cache;
  }

  /** Rewrites the file with `book` as its new base (temp file, checks, rename). */
  async function rewrite(
    file: string,
    view: View | undefined,
    book: BudgetBook,
    now: number,
    lock: HeldLock,
  ): Promise<void> {
    const generation = randomBytes(8).toString('hex');
    const scopes = book.snapshot(now);
    const parts = [
      JSON.stringify({ falaiBudget: BUDGET_FORMAT_VERSION, g: generation, scopes: scopes.length }),
      ...scopes.map((scope) =>
        JSON.stringify({
          scope: scope.scope,
          until: scope.retainUntil,
          r: scope.reservations,
          s: scope.settled,
        }),
      ),
    ];
    const data = Buffer.from(`${parts.join('\n')}\n`, 'utf8');
    const before = await fileInfo(file);
    if (!before) await ensureParent(file);
    const temp = await writeTemp(file, data, before?.mode ?? 0o600, before, options.fsync);
    try {
      await options.beforeCommit?.('budget-rewrite');
      // Compare-and-swap on the file: the lock still ours, the file exactly the one we read.
      if (!(await lock.verify())) throw new LostLock();
      const current = await stat(file).catch(() => undefined);
      const same = view
        ? current?.ino === view.ino && current.size === view.size
        : current === undefined;
      if (!same) throw new LostLock();
      await renameInto(temp, file, options.fsync);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    cache = {
      file,
      ino: (await stat(file)).ino,
      generation,
      book,
      base: data.length,
      size: data.length,
      journal: { ...emptyJournal(), offset: data.length },
    };
    await removeLeftovers(file);
  }

  /** Appends one change line; throws `LostLock` when it did not count. */
  async function append(
    view: View,
    changes: readonly BudgetChange[],
    lock: HeldLock,
    operation: string,
  ): Promise<void> {
    const nonce = randomBytes(8).toString('hex');
    const line = JSON.stringify({
      g: view.generation,
      n: view.journal.count + 1,
      id: nonce,
      c: changes.map((c) => [c.scope, c.requestKey, entryJson(c.entry), c.retainUntil]),
    });
    const data = Buffer.from(`${view.journal.clean ? '' : '\n'}${line}\n`, 'utf8');
    await options.beforeCommit?.('budget-append');
    if (!(await lock.verify(false))) throw new LostLock();
    const handle = await open(view.file, constants.O_WRONLY | constants.O_APPEND);
    let size: number;
    try {
      const st = await handle.stat();
      // Rewritten since we read it: only a writer that broke our lock can have done that.
      if (st.ino !== view.ino) throw new LostLock();
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await handle.write(data, done, data.length - done);
        done += bytesWritten;
      }
      if (options.fsync) await handle.datasync();
      size = (await handle.stat()).size;
    } finally {
      await handle.close();
    }
    if (size === view.size + data.length) {
      // Nothing else was appended before ours: it is line n, counted by every reader.
      view.size = size;
      view.journal.offset = size;
      view.journal.count++;
      view.journal.clean = true;
      view.journal.applied.add(nonce);
      return;
    }
    // Someone else wrote meanwhile (we had lost the lock): ours counts only if the replay says so.
    cache = undefined;
    const now = await load(view.file, operation);
    if (!now?.journal.applied.has(nonce)) throw new LostLock();
  }

  async function attempt(
    file: string,
    batch: readonly Pending[],
    lock: HeldLock,
    operation: string,
  ): Promise<Outcome[]> {
    const view = await load(file, operation);
    // Decisions apply to the cached book as they go (each sees the ones before it); a batch
    // that then fails to commit drops the cache, so the next one reads the file again.
    const work = view ? view.book : new BudgetBook();
    const now = Date.now();
    work.prune(now);
    const outcomes: Outcome[] = [];
    const changes: BudgetChange[] = [];
    for (const item of batch) {
      try {
        const decided = item.decide(work, now);
        for (const change of decided.changes) work.apply(change);
        changes.push(...decided.changes);
        outcomes.push({ ok: true, value: decided.result });
      } catch (error) {
        outcomes.push({ ok: false, error });
      }
    }
    if (changes.length === 0) return outcomes;
    const grown = view ? view.size - view.base : 0;
    if (!view || view.generation === '' || grown > Math.max(options.compactBytes, view.base)) {
      await rewrite(file, view, work, now, lock);
    } else {
      await append(view, changes, lock, operation);
    }
    return outcomes;
  }

  const commits = createGroupCommit<Pending>({
    file: async () => budgetPath(await options.target()),
    lock: { staleMs: options.lockStaleMs, timeoutMs: options.lockTimeoutMs },
    location: options.path,
    batchOperation: 'budget',
    attempt,
    fail: (operation, error) => options.fail(`${operation} (budget)`, error),
    conflictMessage:
      `The budget of the file store at ${options.path} lost its lock ${MAX_ATTEMPTS} times ` +
      'in a row (the process was paused, or the disk stalled, for longer than the ' +
      `${options.lockStaleMs} ms stale-lock period); nothing was decided. Retry.`,
    onAbort: () => {
      cache = undefined;
    },
  });

  const ledger = createBookLedger((operation, decide) => {
    options.guard(operation);
    return commits.enqueue({ operation, decide }) as Promise<never>;
  }, options.redactor);

  return {
    ledger,
    async close() {
      await commits.idle();
      cache = undefined;
    },
  };
}
