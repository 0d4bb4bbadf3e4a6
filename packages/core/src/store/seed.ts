import { createHash } from 'node:crypto';
import { environmentRedactor } from '../config/settings.js';
import type { Redactor } from '../redact/redactor.js';
import {
  type InputFile,
  type InputSummary,
  type PendingRecord,
  parsePendingRecord,
  type RecordError,
  type RequestStatus,
} from './record.js';

/**
 * One entry of the Python seed skill's `fal-pending.json` (`{"requests":[...]}`), as that
 * script wrote it: snake_case, fal's upper-case statuses, naive UTC timestamps.
 */
export interface SeedPendingEntry {
  readonly request_id?: unknown;
  readonly model_id?: unknown;
  /** Some copies of the seed script wrote the endpoint here instead of `model_id`. */
  readonly model?: unknown;
  readonly input?: unknown;
  readonly status?: unknown;
  readonly submitted_at?: unknown;
  readonly updated_at?: unknown;
  readonly queue_position?: unknown;
  readonly error?: unknown;
  readonly result?: unknown;
  readonly [key: string]: unknown;
}

/**
 * True for the seed's pending file: an object with a `requests` array and no `version`.
 * falai's own file keeps the `requests` key (so old readers still see a list) but always
 * carries `version`, which is how the two are told apart.
 */
export function isSeedPendingFile(json: unknown): json is { requests: SeedPendingEntry[] } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return false;
  const obj = json as Record<string, unknown>;
  if ('version' in obj || !Array.isArray(obj.requests)) return false;
  return obj.requests.every(
    (entry) => typeof entry === 'object' && entry !== null && !Array.isArray(entry),
  );
}

const STATUS_MAP: Readonly<Record<string, RequestStatus>> = {
  IN_QUEUE: 'queued',
  QUEUED: 'queued',
  IN_PROGRESS: 'running',
  RUNNING: 'running',
  COMPLETED: 'completed',
  OK: 'completed',
  FAILED: 'failed',
  ERROR: 'failed',
  CANCELLED: 'cancelled',
  CANCELED: 'cancelled',
};

const KNOWN_KEYS = new Set([
  'request_id',
  'model_id',
  'input',
  'status',
  'submitted_at',
  'updated_at',
  'queue_position',
  'error',
  'result',
]);

/** Where an entry may name its endpoint, in order of preference. */
const ENDPOINT_KEYS = ['model_id', 'model', 'endpoint_id', 'endpoint'] as const;

const DATA_URI = /^data:([^;,]*)((?:;[^;,]*)*?),(.*)$/s;
const FILE_FIELD = /_urls?$|^(?:image|video|audio|mask|file)s?$/;

/** `2026-03-01T10:00:00.123456` (Python's naive UTC) → `…Z`; anything unusable → undefined. */
function seedTimestamp(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  let text = value.trim().replace(' ', 'T');
  if (!/(?:Z|[+-]\d{2}(?::?\d{2})?)$/i.test(text)) text = `${text}Z`;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}(?::?\d{2})?)$/i.test(text))
    return undefined;
  return Number.isNaN(Date.parse(text)) ? undefined : text.toUpperCase().replace(',', '.');
}

function summariseDataUri(field: string, uri: string): InputFile {
  const match = DATA_URI.exec(uri);
  const mime = match?.[1] || undefined;
  const isBase64 = match?.[2]?.split(';').includes('base64') ?? false;
  const payload = match?.[3] ?? '';
  const bytes = isBase64
    ? Buffer.from(payload, 'base64')
    : Buffer.from(decodeURIComponent(payload), 'utf8');
  return {
    field,
    kind: 'data-uri',
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    size: bytes.length,
    ...(mime ? { mime } : {}),
    sentAs: 'data-uri',
  };
}

/**
 * Turns a submitted input into a summary: data URIs become digests (their bytes are never
 * kept), URL fields are kept by reference, everything else is kept as given.
 */
export function summariseSeedInput(input: unknown): InputSummary {
  const files: InputFile[] = [];
  const walk = (value: unknown, path: string, fileField: boolean): unknown => {
    if (typeof value === 'string') {
      if (value.startsWith('data:')) {
        files.push(summariseDataUri(path, value));
        return `<file ${path}>`;
      }
      if (fileField && /^https?:\/\//i.test(value)) {
        files.push({ field: path, kind: 'url', location: value, sentAs: 'url' });
        return `<file ${path}>`;
      }
      return value;
    }
    if (Array.isArray(value)) return value.map((item, i) => walk(item, `${path}.${i}`, fileField));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        out[key] = walk(item, path ? `${path}.${key}` : key, FILE_FIELD.test(key));
      }
      return out;
    }
    return value;
  };
  const fields =
    input !== null && typeof input === 'object' && !Array.isArray(input)
      ? (walk(input, '', false) as Record<string, unknown>)
      : input === undefined
        ? {}
        : { input: walk(input, 'input', false) };
  return { fields, files };
}

function seedError(error: unknown): RecordError {
  if (typeof error === 'string') return { code: 'REQUEST_FAILED', message: error };
  if (error !== null && typeof error === 'object') {
    const obj = error as Record<string, unknown>;
    const message =
      typeof obj.message === 'string'
        ? obj.message
        : typeof obj.detail === 'string'
          ? obj.detail
          : JSON.stringify(error);
    return {
      code: typeof obj.code === 'string' ? obj.code : 'REQUEST_FAILED',
      message,
      details: error,
    };
  }
  return { code: 'REQUEST_FAILED', message: String(error) };
}

function tagValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Migrates the seed's pending file into records, losing no request id: every entry with a
 * `request_id` becomes a record (tagged `origin: seed`); what cannot be mapped is kept in
 * tags and reported in `warnings`. Base64 payloads are reduced to digests, never kept.
 */
export function migrateSeedPending(
  json: unknown,
  options: {
    readonly now?: Date;
    /**
     * The keys to strip from the migrated records (the store's redactor).
     * @default the process environment's keys
     */
    readonly redactor?: Redactor;
  } = {},
): { records: PendingRecord[]; warnings: string[] } {
  const now = (options.now ?? new Date()).toISOString();
  const redactor = options.redactor ?? environmentRedactor();
  const warnings: string[] = [];
  if (!isSeedPendingFile(json)) {
    return {
      records: [],
      warnings: ['Not a seed pending file (expected {"requests":[...]}); nothing migrated.'],
    };
  }
  const byId = new Map<string, PendingRecord>();
  json.requests.forEach((entry, index) => {
    const where = `requests[${index}]`;
    const rawId = entry.request_id;
    if ((typeof rawId !== 'string' && typeof rawId !== 'number') || String(rawId).trim() === '') {
      warnings.push(`${where} has no request_id and cannot be tracked; it was not migrated.`);
      return;
    }
    const requestId = String(rawId).trim();
    const tags: Record<string, string> = { origin: 'seed' };

    const endpointKey = ENDPOINT_KEYS.find(
      (key) => typeof entry[key] === 'string' && (entry[key] as string).trim() !== '',
    );
    let endpointId = endpointKey ? (entry[endpointKey] as string).trim() : '';
    if (!endpointId) {
      endpointId = 'unknown';
      warnings.push(
        `${where} (${requestId}) has no model_id (nor model); endpoint set to "unknown". ` +
          `Name it once and falai records it: falai status <endpoint> ${requestId}`,
      );
    }

    const rawStatus = typeof entry.status === 'string' ? entry.status.trim().toUpperCase() : '';
    let status = STATUS_MAP[rawStatus];
    if (!status) {
      status = 'queued';
      tags.seedStatus = tagValue(entry.status ?? null);
      warnings.push(
        `${where} (${requestId}) has status ${JSON.stringify(entry.status ?? null)}; ` +
          'kept as queued so the next poll asks fal for the real status.',
      );
    }

    const submittedAt = seedTimestamp(entry.submitted_at);
    if (!submittedAt && entry.submitted_at !== undefined) {
      tags.seedSubmittedAt = tagValue(entry.submitted_at);
    }
    if (!submittedAt)
      warnings.push(`${where} (${requestId}) has no usable submitted_at; using now.`);
    const updatedAt = seedTimestamp(entry.updated_at) ?? submittedAt ?? now;

    let error: RecordError | undefined;
    let errors = 0;
    if (entry.error !== undefined && entry.error !== null) {
      if (status === 'failed' || status === 'cancelled') error = seedError(entry.error);
      else {
        // The seed kept poll exceptions on still-pending entries; they are not a failure.
        tags.seedLastError = tagValue(entry.error);
        errors = 1;
      }
    }
    if (status === 'completed' && entry.result === undefined) {
      warnings.push(`${where} (${requestId}) is COMPLETED without a result; fetch it again.`);
    }

    for (const [key, value] of Object.entries(entry)) {
      if (!KNOWN_KEYS.has(key) && key !== endpointKey && value !== undefined)
        tags[`seed.${key}`] = tagValue(value);
    }

    const candidate: Record<string, unknown> = {
      requestId,
      endpointId,
      status,
      submittedAt: submittedAt ?? now,
      updatedAt,
      input: summariseSeedInput(entry.input),
      attempts: { submit: 1, poll: 0, errors },
      tags,
    };
    if (typeof entry.queue_position === 'number' && Number.isFinite(entry.queue_position)) {
      candidate.queuePosition = entry.queue_position;
    }
    if (entry.result !== undefined) candidate.result = entry.result;
    if (error) candidate.error = error;

    const record = redactor.scrub(parsePendingRecord(candidate));
    if (byId.has(requestId)) {
      warnings.push(`${where} repeats request ${requestId}; the later entry was kept.`);
    }
    byId.set(requestId, record);
  });
  return { records: [...byId.values()], warnings };
}
