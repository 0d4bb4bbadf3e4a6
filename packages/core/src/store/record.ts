import * as v from 'valibot';

/**
 * Where a request is in its life. `failed` covers fal's "COMPLETED with an error"; `expired`
 * is a request that completed but whose result fal no longer holds (404 after its retention).
 */
export const REQUEST_STATUSES = [
  'queued',
  'running',
  'completed',
  'failed',
  'cancelled',
  'expired',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];
export const TERMINAL_STATUSES: readonly RequestStatus[] = [
  'completed',
  'failed',
  'cancelled',
  'expired',
];
export const ACTIVE_STATUSES: readonly RequestStatus[] = ['queued', 'running'];

export function isTerminalStatus(status: RequestStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

const isoTimestamp = v.pipe(v.string(), v.isoTimestamp('must be an ISO-8601 timestamp'));

/** A file an input referred to: the path or URL the user gave, never its bytes. */
export const InputFileSchema = v.object({
  /** Field path inside the input, e.g. `image_urls.0` or `elements.1.frontal_image_url`. */
  field: v.string(),
  /** `path`: a local file; `url`: an http(s) URL; `data-uri`: inline bytes (never stored). */
  kind: v.picklist(['path', 'url', 'data-uri']),
  /** The local path or the URL; absent for data URIs. */
  location: v.optional(v.string()),
  /** `sha256:<hex>` of the bytes, when they were read. */
  digest: v.optional(v.string()),
  size: v.optional(v.number()),
  mime: v.optional(v.string()),
  /** How the file was sent: inline as a data URI, or uploaded to fal storage (then the URL). */
  sentAs: v.optional(v.picklist(['data-uri', 'upload', 'url'])),
  uploadedUrl: v.optional(v.string()),
});
export type InputFile = v.InferOutput<typeof InputFileSchema>;

/** What was submitted, minus payloads: plain fields as given, files by reference. */
export const InputSummarySchema = v.object({
  /** Non-file fields as submitted; file fields hold a placeholder such as `<file image_urls.0>`. */
  fields: v.record(v.string(), v.unknown()),
  files: v.array(InputFileSchema),
});
export type InputSummary = v.InferOutput<typeof InputSummarySchema>;

export const RecordErrorSchema = v.object({
  code: v.string(),
  message: v.string(),
  details: v.optional(v.unknown()),
});
export type RecordError = v.InferOutput<typeof RecordErrorSchema>;

export const LeaseSchema = v.object({
  owner: v.pipe(v.string(), v.minLength(1)),
  expiresAt: isoTimestamp,
});
export type Lease = v.InferOutput<typeof LeaseSchema>;

export const QueueUrlsSchema = v.object({
  status: v.optional(v.string()),
  response: v.optional(v.string()),
  cancel: v.optional(v.string()),
});
export type QueueUrls = v.InferOutput<typeof QueueUrlsSchema>;

export const OutputFileSchema = v.object({
  url: v.string(),
  path: v.string(),
  /** Bytes on disk (after falai wrote its provenance into the file). */
  size: v.optional(v.number()),
  mime: v.optional(v.string()),
  /** Bytes as fal served them, when writing provenance changed the size on disk. */
  fetchedSize: v.optional(v.number()),
});
export type OutputFile = v.InferOutput<typeof OutputFileSchema>;

export const AttemptsSchema = v.object({
  /** Submit attempts that reached the network (1 for a normal submit). */
  submit: v.number(),
  /** Status/result checks made for this request. */
  poll: v.number(),
  /** Consecutive failed checks (reset on success); used for backoff between poll passes. */
  errors: v.number(),
});
export type Attempts = v.InferOutput<typeof AttemptsSchema>;

/** What a request cost, when known (fal's billing or the lifecycle's settled budget). */
export const CostSchema = v.object({
  amount: v.pipe(v.number(), v.finite(), v.minValue(0)),
  /** ISO 4217 code, e.g. `USD`. */
  currency: v.pipe(v.string(), v.regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD')),
});
export type Cost = v.InferOutput<typeof CostSchema>;

/** A request whose output this one was made from (a lineage edge). */
export const ParentRefSchema = v.object({
  requestId: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  /** Which of its outputs (0-based), when it had several. */
  output: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  /** The input field it went into, e.g. `image_urls.0`. */
  field: v.optional(v.pipe(v.string(), v.maxLength(200))),
});
export type ParentRef = v.InferOutput<typeof ParentRefSchema>;

/** The most parents a record or a file's provenance keeps. */
export const MAX_PARENTS = 32;

/**
 * Provenance a record keeps beyond its own fields (request id, endpoint, input, timings and
 * outputs are already there): bounded, so a record never grows with it. See `buildProvenance`.
 */
export const RecordProvenanceSchema = v.object({
  /** The seed as exact decimal digits: fal's seeds are 64-bit, beyond a double. */
  seed: v.optional(v.pipe(v.string(), v.regex(/^-?\d{1,40}$/, 'must be decimal digits'))),
  cost: v.optional(CostSchema),
  parents: v.optional(v.pipe(v.array(ParentRefSchema), v.maxLength(MAX_PARENTS))),
  /** The falai version that recorded it. */
  falaiVersion: v.optional(v.pipe(v.string(), v.maxLength(64))),
});
export type RecordProvenance = v.InferOutput<typeof RecordProvenanceSchema>;

/** One request falai submitted and keeps track of. */
export const PendingRecordSchema = v.object({
  requestId: v.pipe(v.string(), v.minLength(1)),
  endpointId: v.pipe(v.string(), v.minLength(1)),
  status: v.picklist(REQUEST_STATUSES),
  queuePosition: v.optional(v.number()),
  submittedAt: isoTimestamp,
  updatedAt: isoTimestamp,
  /** Provenance: when falai first saw the request running (absent when it never looked). */
  startedAt: v.optional(isoTimestamp),
  /** Provenance: when the outcome was recorded (set by the lifecycle's finalise step). */
  completedAt: v.optional(isoTimestamp),
  urls: v.optional(QueueUrlsSchema),
  input: v.optional(InputSummarySchema),
  webhookUrl: v.optional(v.string()),
  result: v.optional(v.unknown()),
  error: v.optional(RecordErrorSchema),
  outputs: v.optional(v.array(OutputFileSchema)),
  attempts: AttemptsSchema,
  lease: v.optional(LeaseSchema),
  /** Free-form labels (e.g. `origin: "seed-migration"`). */
  tags: v.optional(v.record(v.string(), v.string())),
  /** Seed, cost, lineage and falai version (see `RecordProvenanceSchema`). */
  provenance: v.optional(RecordProvenanceSchema),
});
export type PendingRecord = v.InferOutput<typeof PendingRecordSchema>;

/** Fields an update may change. `null` removes an optional field. */
export type PendingPatch = {
  readonly status?: RequestStatus;
  readonly queuePosition?: number | null;
  readonly startedAt?: string | null;
  readonly completedAt?: string | null;
  readonly urls?: QueueUrls;
  readonly result?: unknown;
  readonly error?: RecordError | null;
  readonly outputs?: readonly OutputFile[] | null;
  readonly attempts?: Attempts;
  readonly tags?: Readonly<Record<string, string>>;
  readonly provenance?: RecordProvenance | null;
  /** Set by the store to now unless given. */
  readonly updatedAt?: string;
};

/**
 * Validates a record. Throws a `v.ValiError` listing every problem; stores turn
 * that into a `StoreError('STORE_CORRUPT')` naming where the record lives.
 */
export function parsePendingRecord(value: unknown): PendingRecord {
  return v.parse(PendingRecordSchema, value);
}

/** Applies a patch to a record (pure). `updatedAt` defaults to `now`. */
export function applyPatch(
  record: PendingRecord,
  patch: PendingPatch,
  now: Date = new Date(),
): PendingRecord {
  const next: Record<string, unknown> = { ...record };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (value === null) delete next[key];
    else next[key] = value;
  }
  next.updatedAt = patch.updatedAt ?? now.toISOString();
  return parsePendingRecord(next);
}

/** A fresh record for a request fal just accepted. */
export function newPendingRecord(init: {
  readonly requestId: string;
  readonly endpointId: string;
  readonly queuePosition?: number;
  readonly urls?: QueueUrls;
  readonly input?: InputSummary;
  readonly webhookUrl?: string;
  readonly submitAttempts?: number;
  readonly now?: Date;
}): PendingRecord {
  const at = (init.now ?? new Date()).toISOString();
  return parsePendingRecord({
    requestId: init.requestId,
    endpointId: init.endpointId,
    status: 'queued',
    ...(init.queuePosition === undefined ? {} : { queuePosition: init.queuePosition }),
    submittedAt: at,
    updatedAt: at,
    ...(init.urls ? { urls: init.urls } : {}),
    ...(init.input ? { input: init.input } : {}),
    ...(init.webhookUrl ? { webhookUrl: init.webhookUrl } : {}),
    attempts: { submit: init.submitAttempts ?? 1, poll: 0, errors: 0 },
  });
}
