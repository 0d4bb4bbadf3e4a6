import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as v from 'valibot';
import { type FalaiPaths, resolvePaths } from '../config/settings.js';
import type { PendingStore } from '../store/types.js';

/**
 * "Sent, answer unknown": before every POST the submit path writes a small intent file naming
 * the endpoint, the time and a hash of the input being sent; once the record is stored it is
 * removed. A process killed after fal accepted a request but before its record was written, or
 * a submit whose answer never arrived (a network error after sending), leaves its intent
 * behind, and `falai recover` looks for exactly that request in fal's history (same endpoint,
 * same input hash, sent around that time) before anyone pays for it twice.
 *
 * Intents live on this machine, one folder per store: `<state dir>/intents/<store hash>/`.
 */

/** One submit whose answer was not recorded (yet). */
export interface SubmitIntent {
  readonly version: 1;
  readonly id: string;
  readonly endpointId: string;
  /** `sha256:<hex>` of the input as sent (see {@link inputHash}). */
  readonly inputHash: string;
  /** When the POST was about to go out (ISO-8601). */
  readonly at: string;
  /** The store the record was meant for (its location, no password). */
  readonly store: string;
  /** Budget reservations held for it (settled or released once its fate is known). */
  readonly reservations: readonly string[];
  /** The estimate, and the unit price it used (so recovery can record the actual cost). */
  readonly estimateUsd?: number;
  readonly price?: { readonly unitPrice: number; readonly unit: string; readonly currency: string };
  /** The process that sent it. */
  readonly pid: number;
  /**
   * Who sent it, when a caller asks: a batch notes its row (`batch:<hash>:<row key>`), so a row's
   * lost submit is told from every other in the store's journal.
   */
  readonly ref?: string;
}

const IntentSchema = v.object({
  version: v.literal(1),
  id: v.pipe(v.string(), v.regex(/^[a-f0-9-]{36}$/)),
  endpointId: v.pipe(v.string(), v.minLength(1), v.maxLength(300)),
  inputHash: v.pipe(v.string(), v.regex(/^sha256:[a-f0-9]{64}$/)),
  at: v.pipe(v.string(), v.isoTimestamp()),
  store: v.pipe(v.string(), v.maxLength(2000)),
  reservations: v.pipe(v.array(v.pipe(v.string(), v.maxLength(4000))), v.maxLength(8)),
  estimateUsd: v.optional(v.pipe(v.number(), v.minValue(0))),
  price: v.optional(
    v.object({
      unitPrice: v.pipe(v.number(), v.minValue(0)),
      unit: v.pipe(v.string(), v.maxLength(100)),
      currency: v.pipe(v.string(), v.maxLength(10)),
    }),
  ),
  pid: v.number(),
  ref: v.optional(v.pipe(v.string(), v.maxLength(300))),
});

/** Largest intent read back (a note is a few hundred bytes). */
const MAX_INTENT_BYTES = 64 * 1024;

/**
 * A stored intent, checked field by field; anything else (damaged, foreign, too long) is not
 * one. For journals kept elsewhere than this machine's disk (a batch's notes in Redis).
 */
export function parseSubmitIntent(text: string): SubmitIntent | undefined {
  if (text.length > MAX_INTENT_BYTES) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = v.safeParse(IntentSchema, value);
  return parsed.success ? (parsed.output as SubmitIntent) : undefined;
}

/** The notes of `journal` that carry `ref`: what one caller (a batch row) sent. */
export function intentsWithRef(journal: SubmitIntentJournal, ref: string): SubmitIntentJournal {
  return {
    dir: journal.dir,
    record: (intent) => journal.record({ ...intent, ref }),
    resolve: (id) => journal.resolve(id),
    list: async () => (await journal.list()).filter((intent) => intent.ref === ref),
  };
}

/** The intents of one store on this machine. */
export interface SubmitIntentJournal {
  readonly dir: string;
  /** Writes an intent durably (fsync'd) before the POST; returns it. */
  record(intent: Omit<SubmitIntent, 'version' | 'id' | 'pid'>): Promise<SubmitIntent>;
  /** Removes an intent whose request is recorded, or known never to have reached fal. */
  resolve(id: string): Promise<void>;
  /** Every intent left behind (damaged files are skipped). */
  list(): Promise<SubmitIntent[]>;
}

/** A journal of intents kept in `dir` (created on first write). */
export function createIntentJournal(dir: string): SubmitIntentJournal {
  const path = (id: string) => join(dir, `${id}.json`);
  return {
    dir,
    async record(init) {
      const intent: SubmitIntent = { version: 1, id: randomUUID(), pid: process.pid, ...init };
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const temp = `${path(intent.id)}.tmp`;
      const handle = await open(temp, 'w', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(intent)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, path(intent.id));
      return intent;
    },
    async resolve(id) {
      if (!/^[a-f0-9-]{36}$/.test(id)) return;
      await rm(path(id), { force: true });
    },
    async list() {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        return [];
      }
      const out: SubmitIntent[] = [];
      for (const name of names.filter((item) => /^[a-f0-9-]{36}\.json$/.test(item)).sort()) {
        try {
          const file = join(dir, name);
          if ((await stat(file)).size > MAX_INTENT_BYTES) continue;
          const intent = parseSubmitIntent(await readFile(file, 'utf8'));
          if (intent) out.push(intent);
        } catch {
          // A half-written or foreign file: not an intent.
        }
      }
      return out.sort((a, b) => a.at.localeCompare(b.at));
    },
  };
}

/**
 * The intent journal of a store on this machine: `<state dir>/intents/<hash of the store's
 * kind and location>` (the state dir is `settings.paths.stateDir`, `$XDG_STATE_HOME/falai`).
 * Undefined for a memory store: nothing of it survives the process, so there is nothing to
 * recover.
 */
export function intentJournalFor(
  store: Pick<PendingStore, 'kind' | 'location'>,
  paths: Pick<FalaiPaths, 'stateDir'> = resolvePaths(),
): SubmitIntentJournal | undefined {
  if (store.kind === 'memory') return undefined;
  const name = createHash('sha256')
    .update(`${store.kind}\n${store.location}`)
    .digest('hex')
    .slice(0, 16);
  return createIntentJournal(join(paths.stateDir, 'intents', name));
}

/** Canonical JSON: object keys sorted, integers beyond 2^53 (bigint) as their digits. */
function canonical(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
}

/**
 * `sha256:<hex>` of an input as sent, key order ignored: the same input fal's request history
 * returns (`json_input`) hashes the same, which is how a lost submit is found there.
 */
export function inputHash(input: unknown): string {
  return `sha256:${createHash('sha256').update(canonical(input)).digest('hex')}`;
}
