import {
  corruptError,
  isSeedPendingFile,
  type PendingRecord,
  parseJsonExact,
  parseStoredRecord,
  recordToJson,
  type StoreContext,
  StoreError,
} from '@falai/core/store-kit';

/**
 * The on-disk format version. 3 added the `generation` of the snapshot and the journal beside
 * it; 2 (no journal) is still read. The seed's file has none.
 */
export const FILE_FORMAT_VERSION = 3;

/**
 * The longest record line (snapshot or journal) falai reads. Records written today are capped
 * far below this (`MAX_RECORD_BYTES`); anything bigger is damage, or a hostile result stored by
 * an older falai, and is refused with `STORE_CORRUPT` instead of exhausting memory.
 */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** Files not in the one-record-per-line layout are parsed whole only up to this size. */
const MAX_WHOLE_PARSE_BYTES = 256 * 1024 * 1024;

/** A record with the exact bytes it is written as, so unchanged records are not re-encoded. */
export interface Entry {
  readonly record: PendingRecord;
  readonly json: string;
}

/** What a read of the snapshot found. */
export type Parsed =
  | {
      readonly kind: 'records';
      readonly generation: string | undefined;
      readonly entries: Map<string, Entry>;
    }
  | { readonly kind: 'seed'; readonly json: unknown };

/** Builds an entry from a validated record. */
export function entryOf(record: PendingRecord): Entry {
  return { record, json: recordToJson(record) };
}

/**
 * Serialises the snapshot: the seed's top-level `requests` key (old readers still see a list),
 * a `version`, the `generation` its journal belongs to, and one record per line so the file
 * stays readable, diffable, and can be read a line at a time whatever its size.
 */
export function serialise(entries: Iterable<Entry>, generation: string): Buffer {
  const parts: string[] = [];
  for (const entry of entries) parts.push(entry.json);
  const head = `{"version":${FILE_FORMAT_VERSION},"generation":"${generation}","requests":[`;
  return Buffer.from(
    parts.length === 0 ? `${head}]}\n` : `${head}\n${parts.join(',\n')}\n]}\n`,
    'utf8',
  );
}

const HEADER = /^\{"version":(\d+)(?:,"generation":"([0-9a-f]{1,64})")?,"requests":\[(\]\})?$/;

function checkVersion(version: unknown, context: StoreContext): void {
  if (typeof version === 'number' && version > FILE_FORMAT_VERSION) {
    throw new StoreError(
      'STORE_ERROR',
      `${context.location} was written by a newer falai (format ${version}; this one reads up ` +
        `to ${FILE_FORMAT_VERSION}). Upgrade falai, or point FALAI_STORE at another file.`,
      { ...context },
    );
  }
  if (version !== 2 && version !== FILE_FORMAT_VERSION) {
    throw corruptError(context, `unknown "version" ${JSON.stringify(version)}`);
  }
}

function recordAt(item: unknown, index: number, path: string, context: StoreContext) {
  const id =
    typeof item === 'object' && item !== null && 'requestId' in item
      ? String((item as { requestId: unknown }).requestId)
      : '?';
  return parseStoredRecord(item, {
    ...context,
    location: `${path} (requests[${index}], request ${id})`,
  });
}

/** `[start, end)` of each line of `buffer`, without the newline; the last may be unterminated. */
export function* lines(buffer: Buffer, from = 0): Generator<[number, number, boolean]> {
  let start = from;
  while (start < buffer.length) {
    const nl = buffer.indexOf(10, start);
    if (nl < 0) {
      yield [start, buffer.length, false];
      return;
    }
    yield [start, nl, true];
    start = nl + 1;
  }
}

/** Parses falai's own layout a line at a time; `undefined` when the file is laid out otherwise. */
function parseLines(buffer: Buffer, path: string, context: StoreContext): Parsed | undefined {
  const iterator = lines(buffer);
  const first = iterator.next();
  if (first.done) return undefined;
  const [hs, he] = first.value;
  if (he - hs > 200) return undefined;
  const header = HEADER.exec(buffer.toString('utf8', hs, he).trimEnd());
  if (!header) return undefined;
  checkVersion(Number(header[1]), context);
  const generation = header[2];
  const entries = new Map<string, Entry>();
  const rest = (from: number) => buffer.subarray(from).toString('utf8').trim() === '';
  if (header[3]) {
    if (!rest(he)) return undefined;
    return { kind: 'records', generation, entries };
  }
  let index = 0;
  for (const [start, end] of iterator) {
    if (end - start > MAX_LINE_BYTES) {
      const peek = buffer.toString('utf8', start, Math.min(end, start + 4096));
      const id = /"requestId":"([^"]{1,200})"/.exec(peek)?.[1] ?? '?';
      throw corruptError(
        { ...context, location: `${path} (requests[${index}], request ${id})` },
        `a record of ${Math.round((end - start) / 1024 / 1024)} MB, over the ` +
          `${MAX_LINE_BYTES / 1024 / 1024} MB a record may take (a result that should never ` +
          'have been stored inline); move that line out of the file to read the rest',
      );
    }
    let text = buffer.toString('utf8', start, end).trimEnd();
    if (text === ']}') {
      if (!rest(end)) return undefined;
      return { kind: 'records', generation, entries };
    }
    if (text.endsWith(',')) text = text.slice(0, -1);
    let item: unknown;
    try {
      item = parseJsonExact(text);
    } catch (error) {
      throw corruptError(
        { ...context, location: `${path} (requests[${index}])` },
        `not valid JSON (${(error as Error).message})`,
        error,
      );
    }
    const record = recordAt(item, index, path, context);
    entries.set(record.requestId, entryOf(record));
    index++;
  }
  throw corruptError(context, 'the file ends before the closing "]}" (it was cut short)');
}

/**
 * Parses the snapshot. Anything damaged raises `STORE_CORRUPT` naming the path and the entry;
 * nothing is dropped. An empty file is an empty store (there is nothing to lose).
 */
export function parseFile(buffer: Buffer, path: string): Parsed {
  const context = { store: 'file', operation: 'read', location: path };
  const fast = parseLines(buffer, path, context);
  if (fast) return fast;
  if (buffer.length > MAX_WHOLE_PARSE_BYTES) {
    throw corruptError(
      context,
      `${Math.round(buffer.length / 1024 / 1024)} MB that are not in falai's ` +
        'one-record-per-line layout, too large to read whole',
    );
  }
  const text = buffer.toString('utf8');
  if (text.trim() === '') return { kind: 'records', generation: undefined, entries: new Map() };
  let json: unknown;
  try {
    json = parseJsonExact(text);
  } catch (error) {
    throw corruptError(context, `not valid JSON (${(error as Error).message})`, error);
  }
  if (isSeedPendingFile(json)) return { kind: 'seed', json };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw corruptError(context, 'expected an object with "version" and "requests"');
  }
  const obj = json as { version?: unknown; generation?: unknown; requests?: unknown };
  checkVersion(obj.version, context);
  if (!Array.isArray(obj.requests)) throw corruptError(context, '"requests" is not a list');
  const entries = new Map<string, Entry>();
  obj.requests.forEach((item, index) => {
    const record = recordAt(item, index, path, context);
    entries.set(record.requestId, entryOf(record));
  });
  const generation =
    typeof obj.generation === 'string' && /^[0-9a-f]{1,64}$/.test(obj.generation)
      ? obj.generation
      : undefined;
  return { kind: 'records', generation, entries };
}

/**
 * One journal line: the records a committed batch wrote (`put`) and removed (`del`), for the
 * snapshot `generation` `g`, as the `n`-th line of that generation. Readers apply a line only
 * when `g` is the snapshot's and `n` follows the last line they applied, so a line appended by
 * a writer that lost its lock (and so counted from an older file) is ignored by everyone: an
 * append can never overwrite what another process committed.
 */
export function journalLine(
  generation: string,
  n: number,
  nonce: string,
  changes: ReadonlyMap<string, Entry | null>,
): Buffer {
  const puts: string[] = [];
  const dels: string[] = [];
  for (const [id, entry] of changes) {
    if (entry) puts.push(entry.json);
    else dels.push(JSON.stringify(id));
  }
  return Buffer.from(
    `{"g":"${generation}","n":${n},"id":"${nonce}","put":[${puts.join(',')}],"del":[${dels.join(',')}]}\n`,
    'utf8',
  );
}

/** Where the replay of a journal stands: what a reader carries from one read to the next. */
export interface JournalState {
  /** Bytes consumed: up to the end of the last complete line. */
  offset: number;
  /** Lines applied (the `n` of the last one). */
  count: number;
  /** An unparseable line was seen and not yet known to be a torn write (see `replay`). */
  doubtful: string | undefined;
  /** Whether the file ends with a newline (a torn tail gets one before the next append). */
  clean: boolean;
  /** Nonces of the lines applied, so a writer can tell whether its own line counted. */
  readonly applied: Set<string>;
}

export function emptyJournal(): JournalState {
  return { offset: 0, count: 0, doubtful: undefined, clean: true, applied: new Set() };
}

/** A journal line: its envelope (`g`, `n`, `id`) and the payload the store reads from it. */
export interface JournalLine {
  readonly g?: unknown;
  readonly n?: unknown;
  readonly id?: unknown;
  readonly [key: string]: unknown;
}

/**
 * Replays the complete lines of `chunk` (the file's bytes from `state.offset`) on `state`, for
 * any journal of counted lines (the records' journal, the budget file's change lines).
 *
 * A line counts when its `g` is `generation` and its `n` follows the last line counted; then
 * `applyPayload` applies it (and throws `STORE_CORRUPT` when its payload or `id` is invalid).
 * A line that is not valid JSON is a write torn by a crash (never acknowledged: the writer
 * syncs before it answers) when the next valid line continues the count without it; if the
 * next line counts it, it was a committed line that got damaged, and that is `STORE_CORRUPT`.
 * So is a line over `MAX_LINE_BYTES`. `what` names the lines in errors ("journal", "budget").
 */
export function replayLines(
  chunk: Buffer,
  state: JournalState,
  generation: string,
  context: StoreContext,
  what: string,
  applyPayload: (line: JournalLine, at: string) => void,
): void {
  for (const [start, end, complete] of lines(chunk)) {
    if (!complete) {
      state.clean = false;
      return;
    }
    state.clean = true;
    const at = `${context.location} (byte ${state.offset + start})`;
    const advance = () => {
      state.offset += end + 1 - start;
    };
    if (end === start) {
      advance();
      continue;
    }
    if (end - start > MAX_LINE_BYTES) {
      throw corruptError(
        { ...context, location: at },
        `a ${what} line over ${MAX_LINE_BYTES / 1024 / 1024} MB`,
      );
    }
    let line: JournalLine;
    try {
      line = parseJsonExact(chunk.toString('utf8', start, end)) as JournalLine;
    } catch {
      state.doubtful ??= at;
      advance();
      continue;
    }
    if (typeof line !== 'object' || line === null || line.g !== generation) {
      advance();
      continue;
    }
    if (line.n === state.count + 2 && state.doubtful) {
      throw corruptError(
        { ...context, location: state.doubtful },
        `a committed ${what} line is damaged (the lines after it count it)`,
      );
    }
    if (line.n !== state.count + 1) {
      advance();
      continue;
    }
    applyPayload(line, at);
    state.count++;
    state.doubtful = undefined;
    state.applied.add(line.id as string);
    advance();
  }
}

/** Applies the complete lines of `chunk` (journal bytes from `state.offset`) to `entries`. */
export function replay(
  chunk: Buffer,
  state: JournalState,
  generation: string,
  entries: Map<string, Entry>,
  path: string,
): void {
  const context = { store: 'file', operation: 'read', location: path };
  replayLines(chunk, state, generation, context, 'journal', (line, at) => {
    if (!Array.isArray(line.put) || !Array.isArray(line.del) || typeof line.id !== 'string') {
      throw corruptError({ ...context, location: at }, 'a journal line without put/del/id');
    }
    const next: [string, Entry | null][] = [];
    line.put.forEach((item, index) => {
      const record = recordAt(item, index, at, context);
      next.push([record.requestId, entryOf(record)]);
    });
    for (const id of line.del) {
      if (typeof id !== 'string') throw corruptError({ ...context, location: at }, 'a bad "del"');
      next.push([id, null]);
    }
    for (const [id, entry] of next) {
      if (entry) entries.set(id, entry);
      else entries.delete(id);
    }
  });
}
