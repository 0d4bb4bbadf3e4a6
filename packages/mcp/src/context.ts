import { stat } from 'node:fs/promises';
import {
  ACTIVE_STATUSES,
  type CostEstimator,
  environmentRedactor,
  type Falai,
  FalaiError,
  type Job,
  type ModelCatalogue,
  type ModelRegistry,
  type OutputFile,
  type PendingRecord,
  type Redactor,
  type RequestStatus,
  toFalaiError,
} from '@falai/core';
import { readCostTags } from '@falai/core/internal';

/** How long `generate` waits by default before it returns the request id. @default 45 s */
export const DEFAULT_WAIT_MS = 45_000;
/**
 * The longest wait an agent may ask for in one call. Common MCP clients give up on a tool call
 * after about 60 s; past this bound the id is returned and the job goes on.
 */
export const DEFAULT_MAX_WAIT_MS = 55_000;
/** Largest image sent inline in a result (after downscaling). */
export const DEFAULT_INLINE_IMAGE_MAX_BYTES = 1_000_000;
/** How long this process keeps following a job in the background after a call returned. */
export const FOLLOW_MAX_MS = 6 * 60 * 60 * 1000;

/** Options of the MCP server: the lifecycle it drives and the bounds it keeps. */
export interface FalaiMcpOptions {
  /**
   * The lifecycle (`createFalai`), configured as the CLI is: settings, key, and the store
   * (pass an opened `PendingStore` so a long-running server does not reopen it per call).
   */
  readonly falai: Falai;
  /** The registry `falai` validates with: model schemas and file fields. */
  readonly registry: ModelRegistry;
  /** fal's catalogue: search, prices and typical run times (for ETAs). */
  readonly catalogue?: ModelCatalogue;
  /** Core's cost estimator (`costEstimatorFor`), for estimate_cost. */
  readonly estimator?: CostEstimator;
  /** Absolute folder every output is saved in; agent-named folders stay inside it. */
  readonly outputDir: string;
  /**
   * Absolute folders local input files may be read from (file fields of `generate`).
   * @default [outputDir]
   */
  readonly inputDirs?: readonly string[];
  /** @default DEFAULT_WAIT_MS */
  readonly waitMs?: number;
  /** @default DEFAULT_MAX_WAIT_MS (at least `waitMs`) */
  readonly maxWaitMs?: number;
  /** @default DEFAULT_INLINE_IMAGE_MAX_BYTES */
  readonly inlineImageMaxBytes?: number;
  /** Offer `generate` as an MCP task to clients that support tasks. @default true */
  readonly tasks?: boolean;
  /**
   * Keeps keys out of every result and error (`settings.redactor`, which also learns the keys
   * the lifecycle resolves with those settings). @default the keys of `env`
   */
  readonly redactor?: Redactor;
  /** Where keys are looked for when no `redactor` is given. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** The server's version in `initialize`. @default '0.0.0' */
  readonly version?: string;
}

/** When a job should be done, and what the guess rests on. */
export interface Eta {
  /** Seconds from now (0: any moment). */
  readonly seconds: number;
  /** ISO-8601. */
  readonly at: string;
  readonly basis: string;
}

/** A job as every tool shows it. */
export interface JobView {
  readonly requestId: string;
  readonly endpointId: string;
  readonly status: RequestStatus;
  /** True once the job will not change any more (completed, failed, cancelled, expired). */
  readonly done: boolean;
  readonly queuePosition?: number;
  readonly submittedAt?: string;
  readonly startedAt?: string;
  readonly completedAt?: string;
  readonly eta?: Eta;
  /** Saved output files (absolute paths), with fal's URL of each. */
  readonly files?: readonly { path: string; url: string; mime?: string; size?: number }[];
  /** The model's output as recorded (bounded; 64-bit integers as decimal strings). */
  readonly output?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
  /** The cost estimated before the submit, in US dollars. */
  readonly estimatedCostUsd?: number;
  /** What it cost, once known (billable units × unit price). */
  readonly cost?: { readonly amount: number; readonly currency: string };
  /** Set when a cancel was asked for and fal has not confirmed it yet. */
  readonly cancelRequestedAt?: string;
  /** What to do next, in words an agent can follow. */
  readonly next?: string;
  readonly notes?: readonly string[];
}

/** Largest recorded output (serialised) put in a result; larger ones are left to the files. */
const MAX_OUTPUT_JSON = 32 * 1024;

/** The shared state of one server process: the lifecycle, bounds and background waits. */
export class McpContext {
  readonly falai: Falai;
  readonly registry: ModelRegistry;
  readonly catalogue: ModelCatalogue | undefined;
  readonly estimator: CostEstimator | undefined;
  readonly outputDir: string;
  readonly inputDirs: readonly string[];
  readonly waitMs: number;
  readonly maxWaitMs: number;
  readonly inlineImageMaxBytes: number;
  readonly tasks: boolean;
  readonly redactor: Redactor;
  readonly version: string;

  /** One background wait per request in this process (generate, result, tasks share it). */
  readonly #following = new Map<string, Promise<FollowOutcome>>();
  readonly #stop = new AbortController();
  readonly #durations = new Map<string, Promise<number | undefined>>();
  /** Tool calls being answered (a closing transport lets them finish first). */
  readonly #calls = new Set<Promise<unknown>>();

  constructor(options: FalaiMcpOptions) {
    this.falai = options.falai;
    this.registry = options.registry;
    this.catalogue = options.catalogue;
    this.estimator = options.estimator;
    this.outputDir = options.outputDir;
    this.inputDirs = options.inputDirs?.length ? options.inputDirs : [options.outputDir];
    this.waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
    this.maxWaitMs = Math.max(options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS, this.waitMs);
    this.inlineImageMaxBytes = options.inlineImageMaxBytes ?? DEFAULT_INLINE_IMAGE_MAX_BYTES;
    this.tasks = options.tasks ?? true;
    this.redactor = options.redactor ?? environmentRedactor(options.env);
    this.version = options.version ?? '0.0.0';
  }

  /** Aborted when the server stops: background waits end (the jobs stay in the store). */
  get stopSignal(): AbortSignal {
    return this.#stop.signal;
  }

  /** Runs a tool call, counted until it settles (see {@link drain}). */
  track<T>(call: Promise<T>): Promise<T> {
    this.#calls.add(call);
    const forget = () => this.#calls.delete(call);
    call.then(forget, forget);
    return call;
  }

  /** Waits (at most `ms`) for the tool calls being answered, e.g. before stdio closes. */
  async drain(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.#calls.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolveBound) => {
        timer = setTimeout(resolveBound, left);
      });
      await Promise.race([Promise.allSettled([...this.#calls]), bound]);
      clearTimeout(timer);
    }
  }

  /** Stops every background wait; the jobs stay pending in the store, nothing is lost. */
  async close(): Promise<void> {
    this.#stop.abort();
    await Promise.allSettled([...this.#following.values()]);
  }

  /**
   * Follows a job until it ends, in the background: the lifecycle's wait (recording the
   * outcome) with its files saved to the output folder. One per request in this process;
   * calls that want to wait race it against their own bound. Settles, never rejects.
   */
  follow(job: Job, dir: string = this.outputDir): Promise<FollowOutcome> {
    const running = this.#following.get(job.requestId);
    if (running) return running;
    const signal = AbortSignal.any([this.#stop.signal, AbortSignal.timeout(FOLLOW_MAX_MS)]);
    const promise = job
      .wait({ download: { dir }, signal })
      .then(
        (result): FollowOutcome => ({ kind: 'done', files: result.files }),
        (error: unknown): FollowOutcome => ({ kind: 'error', error: toFalaiError(error) }),
      )
      .finally(() => {
        this.#following.delete(job.requestId);
      });
    this.#following.set(job.requestId, promise);
    return promise;
  }

  /**
   * Waits for a job up to `ms` (and the caller's signal): true when it ended within the bound
   * (its outcome recorded), false when the bound ran out first. Never throws for the job's
   * own failure; the record says how it ended.
   */
  async waitFor(job: Job, ms: number, signal?: AbortSignal): Promise<FollowOutcome | undefined> {
    const followed = this.follow(job);
    if (ms <= 0) return undefined;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const bound = new Promise<undefined>((resolveBound) => {
      timer = setTimeout(() => resolveBound(undefined), ms);
      onAbort = () => resolveBound(undefined);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([followed, bound]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  /** A wait an agent asked for, in ms: `seconds` bounded by the server's maximum. */
  waitBound(seconds: number | undefined, fallbackMs = this.waitMs): number {
    if (seconds === undefined) return Math.min(fallbackMs, this.maxWaitMs);
    return Math.min(Math.max(0, seconds * 1000), this.maxWaitMs);
  }

  /** fal's typical run time of a model in seconds (its catalogue entry), when known. */
  durationOf(endpointId: string): Promise<number | undefined> {
    const catalogue = this.catalogue;
    if (!catalogue) return Promise.resolve(undefined);
    let known = this.#durations.get(endpointId);
    if (!known) {
      known = catalogue
        .search({ text: endpointId, limit: 5, prices: false, signal: AbortSignal.timeout(5000) })
        .then(
          (found) =>
            found.models.find((model) => model.endpointId === endpointId)?.durationEstimate,
          () => undefined,
        );
      this.#durations.set(endpointId, known);
    }
    return known;
  }

  /** When an active job should be done, from the model's typical run time. */
  async etaOf(record: PendingRecord, now = Date.now()): Promise<Eta | undefined> {
    if (!ACTIVE_STATUSES.includes(record.status)) return undefined;
    const duration = await this.durationOf(record.endpointId);
    if (duration === undefined || !(duration > 0)) return undefined;
    let seconds: number;
    let basis: string;
    if (record.status === 'running') {
      const started = Date.parse(record.startedAt ?? record.submittedAt);
      seconds = Math.max(0, duration - (now - started) / 1000);
      basis = `fal's typical run time of ${record.endpointId} (${duration} s), counted from when it started running`;
    } else {
      const ahead = record.queuePosition ?? 0;
      seconds = duration * (ahead + 1);
      basis = `fal's typical run time of ${record.endpointId} (${duration} s) × ${ahead + 1} (its queue position ${ahead}, then its own run); the queue may move faster`;
    }
    const rounded = Math.round(seconds);
    return { seconds: rounded, at: new Date(now + rounded * 1000).toISOString(), basis };
  }

  /** How to check on a job again, in words an agent can follow. */
  nextStep(record: PendingRecord): string {
    const id = record.requestId;
    const wait = Math.round(this.maxWaitMs / 1000);
    return `Not finished yet. It is recorded in falai's store, so nothing is lost: call get_job_result with {"request_id": "${id}", "wait_seconds": ${wait}} to wait for it again (or get_job_status to look without waiting; list_jobs shows every pending job). From a terminal: falai wait ${id}.`;
  }

  /**
   * The job view of a record: status, timings, ETA, saved files, recorded output. `files`: the
   * record's files still on disk when the caller has just looked ({@link existingFiles}).
   */
  async view(
    record: PendingRecord,
    extra: { notes?: readonly string[]; files?: readonly SavedFile[] } = {},
  ): Promise<JobView> {
    const done = !ACTIVE_STATUSES.includes(record.status);
    const eta = done ? undefined : await this.etaOf(record);
    const files = done ? (extra.files ?? (await existingFiles(record.outputs ?? []))) : [];
    const output = record.status === 'completed' ? boundedOutput(record.result) : undefined;
    const cancelRequestedAt = record.tags?.cancelRequestedAt;
    const { estimateUsd } = readCostTags(record);
    const cost = record.provenance?.cost;
    const notes = [...(extra.notes ?? [])];
    let next: string | undefined;
    if (!done) next = this.nextStep(record);
    else if (
      record.status === 'completed' &&
      files.length === 0 &&
      (record.outputs?.length ?? 0) > 0
    )
      next = `Completed, but its files are not saved here: call download_job_outputs with {"request_id": "${record.requestId}"}.`;
    if (cancelRequestedAt && !done)
      notes.push(
        'A cancel was asked for; fal may still finish (and bill) a job that is already running. Its status shows how it ends.',
      );
    return {
      requestId: record.requestId,
      endpointId: record.endpointId,
      status: record.status,
      done,
      ...(record.queuePosition === undefined || done
        ? {}
        : { queuePosition: record.queuePosition }),
      submittedAt: record.submittedAt,
      ...(record.startedAt ? { startedAt: record.startedAt } : {}),
      ...(record.completedAt ? { completedAt: record.completedAt } : {}),
      ...(eta ? { eta } : {}),
      ...(files.length > 0 ? { files } : {}),
      ...(output === undefined ? {} : { output }),
      ...(record.error
        ? { error: { code: record.error.code, message: record.error.message } }
        : {}),
      ...(estimateUsd === undefined ? {} : { estimatedCostUsd: estimateUsd }),
      ...(cost ? { cost: { amount: cost.amount, currency: cost.currency } } : {}),
      ...(cancelRequestedAt && !done ? { cancelRequestedAt } : {}),
      ...(next ? { next } : {}),
      ...(notes.length > 0 ? { notes } : {}),
    };
  }
}

/** How a background wait ended. */
export type FollowOutcome =
  | { readonly kind: 'done'; readonly files: readonly OutputFile[] }
  | { readonly kind: 'error'; readonly error: FalaiError };

/** A saved output file as a job view shows it. */
export interface SavedFile {
  readonly path: string;
  readonly url: string;
  readonly mime?: string;
  readonly size?: number;
}

/** The files of a record that are still on disk. */
export async function existingFiles(outputs: readonly OutputFile[]): Promise<SavedFile[]> {
  const out: SavedFile[] = [];
  for (const file of outputs) {
    const info = await stat(file.path).catch(() => undefined);
    if (!info?.isFile()) continue;
    out.push({
      path: file.path,
      url: file.url,
      ...(file.mime ? { mime: file.mime } : {}),
      size: info.size,
    });
  }
  return out;
}

/**
 * A recorded output as plain JSON: bigints (fal's 64-bit seeds) as decimal strings, and left
 * out when it is too large to be useful in a tool result (the files hold the media).
 */
export function boundedOutput(value: unknown): unknown {
  if (value === undefined) return undefined;
  const plain = toPlainJson(value);
  const text = JSON.stringify(plain);
  if (text === undefined) return undefined;
  if (text.length > MAX_OUTPUT_JSON) {
    return { $omitted: 'value', reason: `the output is ${text.length} characters; see the files` };
  }
  return plain;
}

/** JSON-safe copy: bigints become decimal strings, undefined and functions go. */
export function toPlainJson(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(toPlainJson);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined || typeof item === 'function') continue;
      out[key] = toPlainJson(item);
    }
    return out;
  }
  return value;
}

/** True for a FalaiError of a wait that stopped at its bound (the job goes on). */
export function isStopped(error: unknown): boolean {
  return FalaiError.isInstance(error) && (error.code === 'TIMEOUT' || error.code === 'ABORTED');
}
