import type { PendingRecord, RequestStatus } from './record.js';

/**
 * A history query (`falai history`): which requests to show, newest first. Every given part
 * must match. Stores that implement `PendingStore.search` answer it with an index (SQLite:
 * FTS5; Redis: a time-ordered scan of small per-record search fields); the others are
 * answered by {@link searchRecords} over `list()`.
 */
export interface HistoryQuery {
  /**
   * Words to find in the prompt: each word of the text must begin a word of the prompt,
   * ignoring case (`red fo` finds "A RED fox"). Text without letters or digits matches every
   * record.
   */
  readonly text?: string;
  /** Only this endpoint (exact model id). */
  readonly endpointId?: string;
  /** Only records submitted at or after this ISO timestamp. */
  readonly since?: string;
  /** Only records submitted before this ISO timestamp. */
  readonly before?: string;
  /** One status or several. */
  readonly status?: RequestStatus | readonly RequestStatus[];
  /** At most this many (the newest). @default all */
  readonly limit?: number;
}

/** The input fields whose text a history search looks at, in order of preference. */
export const PROMPT_FIELDS: readonly string[] = ['prompt', 'text'];

/**
 * The prompt of a recorded request: its input's `prompt` field (or `text`, for speech models),
 * when that is a string; otherwise undefined.
 */
export function promptOf(record: Pick<PendingRecord, 'input'>): string | undefined {
  const field = promptFieldOf(record);
  return field === undefined ? undefined : (record.input?.fields[field] as string);
}

/** The input field {@link promptOf} takes the prompt from (`prompt`, else `text`), if any. */
export function promptFieldOf(record: Pick<PendingRecord, 'input'>): string | undefined {
  const fields = record.input?.fields;
  if (!fields) return undefined;
  return PROMPT_FIELDS.find((name) => typeof fields[name] === 'string');
}

/**
 * A word: a run of letters, digits and private-use characters, the token rule of SQLite
 * FTS5's `unicode61` tokenizer (`categories 'L* N* Co'`), so every store splits alike.
 */
const WORD = /[\p{L}\p{N}\p{Co}]+/gu;

/** The words of a text, lower-cased, in order (duplicates kept). */
export function searchWords(text: string): string[] {
  return (text.normalize('NFC').toLowerCase().match(WORD) ?? []).slice();
}

/**
 * A prompt as stores index it for prefix search: its words, lower-cased, each preceded by one
 * space (`" a red fox"`), so "does a word start with t" is a plain substring test for `" t"`.
 * Empty for no prompt.
 */
export function promptIndexText(prompt: string | undefined): string {
  if (!prompt) return '';
  const words = searchWords(prompt);
  return words.length === 0 ? '' : ` ${words.join(' ')}`;
}

/** The search terms of a query's text (unique words, longest first: the rarest test first). */
export function searchTerms(text: string | undefined): string[] {
  if (!text) return [];
  return [...new Set(searchWords(text))].sort((a, b) => b.length - a.length);
}

/** True when every term begins a word of the indexed prompt text (see {@link promptIndexText}). */
export function indexTextMatches(indexText: string, terms: readonly string[]): boolean {
  for (const term of terms) {
    if (!indexText.includes(` ${term}`)) return false;
  }
  return true;
}

/** True when a record matches every part of a history query except `limit`. */
export function matchesHistoryQuery(record: PendingRecord, query: HistoryQuery): boolean {
  if (query.status !== undefined) {
    const statuses = typeof query.status === 'string' ? [query.status] : query.status;
    if (!statuses.includes(record.status)) return false;
  }
  if (query.endpointId !== undefined && record.endpointId !== query.endpointId) return false;
  const at = Date.parse(record.submittedAt);
  if (query.since !== undefined && at < Date.parse(query.since)) return false;
  if (query.before !== undefined && at >= Date.parse(query.before)) return false;
  const terms = searchTerms(query.text);
  if (terms.length === 0) return true;
  return indexTextMatches(promptIndexText(promptOf(record)), terms);
}

/** The history order: newest first (submittedAt, then requestId, both descending). */
export function compareNewestFirst(a: PendingRecord, b: PendingRecord): number {
  const t = Date.parse(b.submittedAt) - Date.parse(a.submittedAt);
  if (t !== 0) return t;
  return a.requestId < b.requestId ? 1 : a.requestId > b.requestId ? -1 : 0;
}

/**
 * Answers a history query over records in memory (the memory and file stores, and any store
 * without `search`): matching records, newest first, at most `limit`.
 */
export function searchRecords<T>(
  items: Iterable<T>,
  query: HistoryQuery,
  recordOf: (item: T) => PendingRecord,
): T[] {
  const matched: T[] = [];
  for (const item of items) {
    if (matchesHistoryQuery(recordOf(item), query)) matched.push(item);
  }
  matched.sort((a, b) => compareNewestFirst(recordOf(a), recordOf(b)));
  return query.limit === undefined ? matched : matched.slice(0, Math.max(0, query.limit));
}
