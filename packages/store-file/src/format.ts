import {
  corruptError,
  isSeedPendingFile,
  type PendingRecord,
  parseStoredRecord,
  StoreError,
} from '@falai/core';

/** The on-disk format version; the seed's file has none. */
export const FILE_FORMAT_VERSION = 2;

/** A record with the exact bytes it is written as, so unchanged records are not re-encoded. */
export interface Entry {
  readonly record: PendingRecord;
  readonly json: string;
  readonly bytes: Buffer;
}

/** What a read of the file found. */
export type Parsed =
  | { readonly kind: 'records'; readonly entries: Map<string, Entry> }
  | { readonly kind: 'seed'; readonly json: unknown };

/** Builds an entry from a validated record. */
export function entryOf(record: PendingRecord): Entry {
  const json = JSON.stringify(record);
  return { record, json, bytes: Buffer.from(json, 'utf8') };
}

const SEPARATOR = Buffer.from(',\n');

/**
 * Serialises the store: the seed's top-level `requests` key (old readers still see a list),
 * a `version`, and one record per line so the file stays readable and diffable.
 */
export function serialise(entries: Iterable<Entry>): Buffer {
  const parts: Buffer[] = [Buffer.from(`{"version":${FILE_FORMAT_VERSION},"requests":[`)];
  let first = true;
  for (const entry of entries) {
    parts.push(first ? Buffer.from('\n') : SEPARATOR, entry.bytes);
    first = false;
  }
  parts.push(Buffer.from(first ? ']}\n' : '\n]}\n'));
  return Buffer.concat(parts);
}

/**
 * Parses the file's text. Anything damaged raises `STORE_CORRUPT` naming the path and the
 * entry; nothing is dropped. An empty file is an empty store (there is nothing to lose).
 */
export function parseFile(text: string, path: string): Parsed {
  const context = { store: 'file', operation: 'read', location: path };
  if (text.trim() === '') return { kind: 'records', entries: new Map() };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw corruptError(context, `not valid JSON (${(error as Error).message})`, error);
  }
  if (isSeedPendingFile(json)) return { kind: 'seed', json };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw corruptError(context, 'expected an object with "version" and "requests"');
  }
  const obj = json as { version?: unknown; requests?: unknown };
  if (typeof obj.version === 'number' && obj.version > FILE_FORMAT_VERSION) {
    throw new StoreError(
      'STORE_ERROR',
      `${path} was written by a newer falai (format ${obj.version}; this one reads up to ` +
        `${FILE_FORMAT_VERSION}). Upgrade falai, or point FALAI_STORE at another file.`,
      { ...context },
    );
  }
  if (obj.version !== FILE_FORMAT_VERSION) {
    throw corruptError(context, `unknown "version" ${JSON.stringify(obj.version)}`);
  }
  if (!Array.isArray(obj.requests)) throw corruptError(context, '"requests" is not a list');
  const entries = new Map<string, Entry>();
  obj.requests.forEach((item, index) => {
    const id =
      typeof item === 'object' && item !== null && 'requestId' in item
        ? String((item as { requestId: unknown }).requestId)
        : '?';
    const record = parseStoredRecord(item, {
      ...context,
      location: `${path} (requests[${index}], request ${id})`,
    });
    entries.set(record.requestId, entryOf(record));
  });
  return { kind: 'records', entries };
}
