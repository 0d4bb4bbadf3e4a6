import type { FalaiSettings } from '../config/settings.js';
import { AuthError, type CredentialSourceAttempt } from '../errors/index.js';
import { maskKey } from '../redact/mask.js';
import type { Redactor } from '../redact/redactor.js';
import { UNQUOTED_NOTE, unquoteKey } from './quotes.js';
import { type CredentialSourceOptions, credentialSources } from './sources.js';

/** A FAL_KEY and where it came from. Serialising or inspecting it shows only the mask. */
export interface ResolvedCredentials {
  readonly key: string;
  readonly source: string;
  readonly masked: string;
  /** Set when the key was changed on the way in (a pair of surrounding quotes removed). */
  readonly note?: string;
}

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/**
 * Holds the key in a private field behind a getter, so `JSON.stringify`, spreading,
 * `Object.keys` and `util.inspect` never reveal it.
 */
class Credentials implements ResolvedCredentials {
  readonly #key: string;
  readonly source: string;
  readonly masked: string;
  readonly note?: string;

  constructor(key: string, source: string, note?: string) {
    this.#key = key;
    this.source = source;
    this.masked = maskKey(key);
    if (note !== undefined) this.note = note;
  }

  get key(): string {
    return this.#key;
  }

  toJSON(): { source: string; masked: string; note?: string } {
    return this.note === undefined
      ? { source: this.source, masked: this.masked }
      : { source: this.source, masked: this.masked, note: this.note };
  }

  toString(): string {
    return `${this.masked} (from ${this.source})`;
  }

  [inspectSymbol](): string {
    return `ResolvedCredentials { source: ${JSON.stringify(this.source)}, masked: ${JSON.stringify(this.masked)} }`;
  }
}

/**
 * Wraps a key as {@link ResolvedCredentials} after checking its shape. A pair of quotes
 * around it (as `.env` files write values) is removed first, and `note` says so.
 */
export function makeCredentials(
  key: string,
  source: string,
  redactor?: Redactor,
): ResolvedCredentials {
  assertKeyFormat(key, source, redactor);
  const { key: clean, unquoted } = unquoteKey(key);
  return new Credentials(clean, source, unquoted ? UNQUOTED_NOTE : undefined);
}

/**
 * Rejects keys without the `:` between id and secret, or with spaces or quotes in them,
 * before any request is sent; fal would answer 401 "Invalid Key Authorization header
 * format" anyway. One pair of surrounding quotes is allowed (and removed by
 * {@link makeCredentials}). The key is added to `redactor` first.
 */
export function assertKeyFormat(key: string, source: string, redactor?: Redactor): void {
  // Added even when malformed: a mistyped key is still a secret. A quoted key is added
  // without its quotes (the bare key covers the quoted text too), so that redaction never
  // swallows a quote character next to the key id.
  const { key: clean } = unquoteKey(key);
  redactor?.add(clean);
  const colon = clean.indexOf(':');
  const quoted = /["'`]/.test(clean);
  if (colon <= 0 || colon === clean.length - 1 || /\s/.test(clean) || quoted) {
    throw new AuthError(
      'AUTH_INVALID',
      `The FAL_KEY from ${source} (${maskKey(clean)}) is malformed: fal keys look like <key_id>:<key_secret>${quoted ? ', with no quotes inside' : ''}. Copy the whole key from https://fal.ai/dashboard/keys.`,
      { details: { source, masked: maskKey(clean) } },
    );
  }
}

/** Options of {@link resolveCredentials}. */
export interface ResolveCredentialsOptions extends CredentialSourceOptions {
  /**
   * Where the key found (and any malformed one) is added, so whatever prints or stores with
   * it never shows the key. @default `settings.redactor`, when settings are given
   */
  readonly redactor?: Redactor;
}

/**
 * Finds the FAL_KEY: the first source holding one wins. Throws AUTH_MISSING listing
 * every source tried (result and fix in `details.sources`), or AUTH_INVALID naming the
 * source of a malformed key.
 */
export async function resolveCredentials(
  options: ResolveCredentialsOptions = {},
): Promise<ResolvedCredentials> {
  const attempts: CredentialSourceAttempt[] = [];
  const redactor = options.redactor ?? options.settings?.redactor;
  for (const candidate of credentialSources(options)) {
    const reading = await candidate.read();
    if (reading.key !== undefined) return makeCredentials(reading.key, candidate.source, redactor);
    attempts.push({ source: candidate.source, result: reading.result, fix: candidate.fix });
  }
  const lines = attempts.map(
    (attempt, index) => `  ${index + 1}. ${attempt.source}: ${attempt.result} → ${attempt.fix}`,
  );
  throw new AuthError(
    'AUTH_MISSING',
    `No FAL_KEY found. Sources tried, in order:\n${lines.join('\n')}\nSet one of them; the simplest is: export FAL_KEY=<key_id>:<key_secret>`,
    { details: { sources: attempts } },
  );
}

/**
 * The key lookup of a fal client, called once per authenticated call: a key given as a string
 * or a function is checked each time (`label` names it in the error, e.g. `the client
 * credentials`); without one, {@link resolveCredentials} runs on first use and its answer is
 * kept. A failed lookup is not kept: the user may fix the key and retry in-process.
 */
export function keyGetter(
  credentials: string | (() => Promise<string> | string) | undefined,
  settings: FalaiSettings | undefined,
  label: string,
): () => Promise<string> {
  const given = credentials;
  const redactor = settings?.redactor;
  if (typeof given === 'string') {
    return async () => {
      assertKeyFormat(given, `${label} option`, redactor);
      return given.trim();
    };
  }
  if (typeof given === 'function') {
    return async () => {
      const key = await given();
      assertKeyFormat(key, `${label} function`, redactor);
      return key.trim();
    };
  }
  let cached: Promise<string> | undefined;
  return () => {
    cached ??= resolveCredentials(settings ? { settings } : {}).then((resolved) => resolved.key);
    cached.catch(() => {
      cached = undefined;
    });
    return cached;
  };
}

/** One credential source as `check-key` shows it. */
export interface CredentialSourceReport extends CredentialSourceAttempt {
  readonly found: boolean;
  /** The masked key, when one was found. */
  readonly masked?: string;
  /** False when a key was found but is malformed. */
  readonly valid?: boolean;
  /** True for the source {@link resolveCredentials} would use. */
  readonly selected: boolean;
}

/** Probes every source, found or not, for `check-key`; keys appear masked only. */
export async function describeCredentialSources(
  options: ResolveCredentialsOptions = {},
): Promise<CredentialSourceReport[]> {
  const reports: CredentialSourceReport[] = [];
  let selected = false;
  for (const candidate of credentialSources(options)) {
    const reading = await candidate.read();
    if (reading.key === undefined) {
      reports.push({
        source: candidate.source,
        result: reading.result,
        fix: candidate.fix,
        found: false,
        selected: false,
      });
      continue;
    }
    let valid = true;
    try {
      assertKeyFormat(
        reading.key,
        candidate.source,
        options.redactor ?? options.settings?.redactor,
      );
    } catch {
      valid = false;
    }
    const { key: clean, unquoted } = unquoteKey(reading.key);
    reports.push({
      source: candidate.source,
      result: !valid
        ? `${reading.result}, but malformed (not <key_id>:<key_secret>)`
        : unquoted
          ? `${reading.result} (surrounding quotes removed)`
          : reading.result,
      fix: candidate.fix,
      found: true,
      masked: maskKey(clean),
      valid,
      selected: !selected,
    });
    selected = true;
  }
  return reports;
}
