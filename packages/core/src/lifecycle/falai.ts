import { isAbsolute, join, resolve } from 'node:path';
import { resolveCredentials } from '../auth/credentials.js';
import type { EnvLike } from '../config/paths.js';
import { type FalaiSettings, resolveSettings } from '../config/settings.js';
import type { CostEstimate, EstimateResult } from '../cost/estimate.js';
import { FalaiError, type FalaiErrorCode } from '../errors/falai-error.js';
import {
  createModelRegistry,
  type ModelRegistry,
  type ModelRegistryOptions,
} from '../models/registry.js';
import { createFalClient } from '../queue/client.js';
import type { FalClient, LogEntry, SubmitOptions } from '../queue/types.js';
import { ACTIVE_STATUSES, type OutputFile, type PendingRecord } from '../store/record.js';
import type { PendingStore } from '../store/types.js';
import { type CancelRequestResult, requestCancel } from './cancel.js';
import type { AnyEndpointId, EndpointInput, EndpointOutput } from './endpoints.js';
import { intentJournalFor } from './intents.js';
import { type OpenStoreOptions, openStore, type StoreDrivers } from './open-store.js';
import { outputTarget } from './output-names.js';
import { type PollRequestsOptions, type PollSummary, pollRequests } from './poll.js';
import { fetchResult } from './result.js';
import { saveOutputs } from './save.js';
import { checkStatus, type StatusReport } from './status.js';
import { submitAndRecord } from './submit.js';
import { submitCostOptions } from './submit-cost.js';
import { resolveTarget } from './target.js';
import { type Deadline, deadlineAfter, waitAndFinalise } from './wait.js';

/** Options of {@link createFalai}. Everything defaults to what the CLI would use. */
export interface FalaiOptions {
  /**
   * Resolved settings (`resolveSettings`). Default: resolved on first use from `env`, `cwd`,
   * the options below and falai's config file, as the CLI resolves them.
   */
  readonly settings?: FalaiSettings | undefined;
  /** The environment settings and the key are resolved from. @default process.env */
  readonly env?: EnvLike | undefined;
  /** Where relative paths (inputs, downloads, stores) start. @default process.cwd() */
  readonly cwd?: string | undefined;
  /** Send every fal call here (the emulator), ahead of `FALAI_BASE_URL`. */
  readonly baseUrl?: string | undefined;
  /** falai's config file. @default `FALAI_CONFIG`, else the platform's config folder */
  readonly configPath?: string | undefined;
  /** The fal key, ahead of `FAL_KEY` and every other source. */
  readonly key?: string | undefined;
  /**
   * Where requests are recorded: a `PendingStore` you opened (never closed by falai), or a
   * store spec (`file:<path>`, `sqlite:<path>`, `redis://…`, `memory`). Default: `FALAI_STORE`,
   * the config file's store, else the default file store (`FAL_PENDING_FILE` or
   * `$XDG_STATE_HOME/falai/pending.json`). A spec is opened for each call and closed after.
   */
  readonly store?: PendingStore | string | undefined;
  /** How store adapters are loaded (an application that bundles passes literal imports). */
  readonly storeDrivers?: StoreDrivers | undefined;
  /** A queue client of your own (retry policy, fetch, timeouts). */
  readonly client?: FalClient | undefined;
  /** A model registry of your own. Default: built-in models plus the user's model folders. */
  readonly registry?: ModelRegistry | undefined;
  /** Where `download: true` saves outputs. @default settings `outputDir` (`./falai-output`) */
  readonly outputDir?: string | undefined;
  /** @default `falai/<version>` */
  readonly userAgent?: string | undefined;
  /**
   * Where fal's prices are cached for estimates. @default `FALAI_CACHE_DIR`, else
   * `$XDG_CACHE_HOME/falai` (the CLI's cache folder)
   */
  readonly cacheDir?: string | undefined;
  /**
   * Estimate each submit's cost from its input and fal's prices first (a `phase: 'estimate'`
   * progress event, `estimate` on the result). The config's budgets are enforced either way.
   * @default true
   */
  readonly estimate?: boolean | undefined;
}

/** A progress event of a job: uploads, the submit, each change while waiting, saved files. */
export type JobProgress =
  | {
      readonly phase: 'upload';
      /** The input field the file or bytes are for (`image_urls.0`). */
      readonly field: string;
      readonly sent: number;
      readonly total: number;
    }
  | {
      readonly phase: 'submitted';
      readonly requestId: string;
      readonly endpointId: string;
      readonly queuePosition?: number;
    }
  | {
      /** Where the request is at fal. */
      readonly phase: 'queued' | 'running' | 'completed';
      readonly requestId: string;
      readonly queuePosition?: number;
      /** Log lines not reported before (with `logs: true`). */
      readonly logs: readonly LogEntry[];
      readonly elapsedMs: number;
      readonly via: 'stream' | 'poll';
    }
  | { readonly phase: 'saved'; readonly requestId: string; readonly files: readonly OutputFile[] }
  | {
      /** The cost estimate, before anything is sent (`estimate: null` with the reason). */
      readonly phase: 'estimate';
      readonly endpointId: string;
      readonly estimate: CostEstimate | null;
      readonly reason?: string;
    };

/**
 * Where outputs are saved: a folder (or a file name such as `./cat.png` for one output),
 * `true` for the configured output folder, or the details.
 */
export type DownloadTarget =
  | string
  | true
  | {
      /** A folder, or a file name with a media extension. @default the output folder */
      readonly dir?: string | undefined;
      /**
       * A file name pattern: `{request_id}`, `{index}`, `{n}`, `{ext}`, `{endpoint}`, `{date}`,
       * `{time}`. @default `{request_id}-{index}.{ext}`
       */
      readonly name?: string | undefined;
      /** Replace existing files. @default false */
      readonly force?: boolean | undefined;
    };

/** Options of submitting a job. */
export interface SubmitJobOptions {
  /** fal POSTs the result here. */
  readonly webhookUrl?: string | undefined;
  /** How local files and bytes are sent. @default 'auto' (inline when small, uploaded when large) */
  readonly uploadMode?: 'auto' | 'data-uri' | 'upload' | undefined;
  /** Validate the input against the model first. @default true */
  readonly validate?: boolean | undefined;
  /** An unknown endpoint is an error (MODEL_UNKNOWN) instead of a warning. @default false */
  readonly strict?: boolean | undefined;
  /** Send an input the model definition objects to (its issues only warn). @default false */
  readonly forceInput?: boolean | undefined;
  /** fal's queue options: priority, runner hint, start timeout, storage lifecycle. */
  readonly queue?: Omit<SubmitOptions, 'webhookUrl' | 'signal' | 'timeoutMs'> | undefined;
  /** Stops validation and uploads; never the POST once it is on its way (a paid id is kept). */
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ((event: JobProgress) => void) | undefined;
  /**
   * Refuse (`BUDGET_EXCEEDED`, nothing sent) when the estimate is above this many US dollars,
   * or (`COST_UNKNOWN`) when the cost cannot be estimated.
   */
  readonly maxCostUsd?: number | undefined;
}

/** Options of waiting for a job. */
export interface WaitJobOptions {
  /** Stops waiting (the request keeps running at fal and stays pending in the store). */
  readonly signal?: AbortSignal | undefined;
  /** Gives up after this many ms (the request keeps running at fal). */
  readonly timeoutMs?: number | undefined;
  /** Report fal's log lines in progress events. @default false */
  readonly logs?: boolean | undefined;
  /** Save the output files when it completes. */
  readonly download?: DownloadTarget | undefined;
  readonly onProgress?: ((event: JobProgress) => void) | undefined;
}

/** Options of {@link Falai.run}: submitting and waiting, with one `timeoutMs` for both. */
export interface RunJobOptions extends SubmitJobOptions, WaitJobOptions {}

/** A completed job. */
export interface JobResult<E extends string = string> {
  readonly requestId: string;
  readonly endpointId: E;
  /**
   * The model's output (64-bit integers such as seeds kept exactly, as bigint). Read back from
   * the store it is the record's bounded summary: inline data URIs are replaced by
   * `{ $omitted: 'data-uri', digest, size, mime }`; `download` fetches them from fal again.
   */
  readonly output: EndpointOutput<E>;
  /** Files saved by this call (empty without `download`). */
  readonly files: readonly OutputFile[];
  /** The request's store record afterwards: provenance (input summary, timings, files). */
  readonly record?: PendingRecord;
}

/** What {@link Falai.run} returns: the completed job and the validation warnings. */
export interface RunResult<E extends string = string> extends JobResult<E> {
  readonly warnings: readonly string[];
  /** The cost estimate made before the submit (or why there is none). */
  readonly estimate?: EstimateResult;
}

/** A request falai submitted (or knows of), re-attachable from any process by its id. */
export interface Job<E extends string = string> {
  readonly requestId: string;
  readonly endpointId: E;
  /** The store record as it is now (undefined when the store does not know the request). */
  record(): Promise<PendingRecord | undefined>;
  /** Asks fal where the request is, and records it. */
  status(options?: { readonly logs?: boolean | undefined }): Promise<StatusReport>;
  /**
   * Waits until it ends and records the outcome; resolves with the output (and saved files),
   * throws the error of a failed, cancelled or expired request. A request the store already
   * records as finished answers from the store.
   */
  wait(options?: WaitJobOptions): Promise<JobResult<E>>;
  /** The output of a finished request (from the store when it has it); throws while running. */
  result(): Promise<JobResult<E>>;
  /** Asks fal to cancel; records only what fal confirms. */
  cancel(): Promise<CancelRequestResult>;
  /** Saves the output files (fetching the result from fal when the store lacks them). */
  download(target?: DownloadTarget): Promise<OutputFile[]>;
}

/** The one-call lifecycle API; see {@link createFalai}. */
export interface Falai {
  /**
   * Submits, waits and (with `download`) saves the outputs: validated before anything is sent
   * (an invalid input throws before any HTTP call), local files and bytes sent, recorded in
   * the store before waiting (so a crash loses nothing: `job(requestId)` picks it up), the
   * outcome recorded, files saved with their provenance. Throws the error of a failed,
   * cancelled or expired request.
   */
  run<E extends AnyEndpointId>(
    endpointId: E,
    input: EndpointInput<E>,
    options?: RunJobOptions,
  ): Promise<RunResult<E>>;
  /** Validates, sends files, submits once and records; returns the job to wait on later. */
  submit<E extends AnyEndpointId>(
    endpointId: E,
    input: EndpointInput<E>,
    options?: SubmitJobOptions,
  ): Promise<Job<E> & { readonly warnings: readonly string[]; readonly estimate?: EstimateResult }>;
  /**
   * Re-attaches to a request by its id (or a unique prefix of a stored one), in this process
   * or any other sharing the store. A request the store does not know needs its `endpointId`.
   */
  job<E extends AnyEndpointId = string>(
    requestId: string,
    options?: { readonly endpointId?: E },
  ): Promise<Job<E>>;
  /** One leased poll pass over the store (or passes until done, with `watch`). */
  poll(options?: Omit<PollRequestsOptions, 'store' | 'client'>): Promise<PollSummary>;
  /** The settings in use (resolved on first use). */
  settings(): Promise<FalaiSettings>;
  /** Runs `fn` with the store (opened for the call and closed after, unless you passed one). */
  withStore<T>(fn: (store: PendingStore) => Promise<T>): Promise<T>;
}

/**
 * The one-call lifecycle API, with the ergonomics of `fal.subscribe` and more: validation
 * before anything is paid for, local files and bytes sent, every request recorded in a
 * durable store, progress events, outputs saved, jobs re-attachable from another process,
 * and types per built-in endpoint. Nothing is read or opened until a method is called:
 * settings, credentials and the store are resolved as the CLI resolves them (flags given
 * here, then `FALAI_*`/`FAL_KEY`, then falai's config file, then defaults).
 */
export function createFalai(options: FalaiOptions = {}): Falai {
  // Only the resolvers read the environment: settings (resolveSettings), the key
  // (resolveCredentials) and the file store's test hooks; the process's unless given.
  const env = options.env === undefined ? {} : { env: options.env };
  const cwd = () => options.cwd ?? process.cwd();
  let settingsPromise: Promise<FalaiSettings> | undefined;
  let clientPromise: Promise<FalClient> | undefined;
  let registryPromise: Promise<ModelRegistry> | undefined;

  const settings = (): Promise<FalaiSettings> => {
    settingsPromise ??= (
      options.settings
        ? Promise.resolve(options.settings)
        : resolveSettings({
            ...env,
            cwd: cwd(),
            flags: {
              ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
              ...(typeof options.store === 'string' ? { store: options.store } : {}),
              ...(options.configPath ? { configPath: options.configPath } : {}),
              ...(options.outputDir ? { outputDir: options.outputDir } : {}),
            },
          })
    ).then((resolved) => {
      // The key given here is one of the keys these settings keep out of records and output.
      if (options.key) resolved.redactor.add(options.key);
      return resolved;
    });
    // A failed resolution is not kept: the caller may fix the setting and try again.
    settingsPromise.catch(() => {
      settingsPromise = undefined;
    });
    return settingsPromise;
  };
  /** The key, resolved as the client resolves it (read only when a call needs it). */
  const keyOf = async (): Promise<string> =>
    (
      await resolveCredentials({
        ...env,
        settings: await settings(),
        ...(options.key ? { explicitKey: options.key } : {}),
      })
    ).key;
  const client = (): Promise<FalClient> => {
    if (options.client) return Promise.resolve(options.client);
    clientPromise ??= settings().then((resolved) =>
      createFalClient({
        settings: resolved,
        credentials: async () =>
          (
            await resolveCredentials({
              ...env,
              settings: resolved,
              ...(options.key ? { explicitKey: options.key } : {}),
            })
          ).key,
        ...(options.userAgent ? { userAgent: options.userAgent } : {}),
      }),
    );
    return clientPromise;
  };
  const registry = (): Promise<ModelRegistry> => {
    if (options.registry) return Promise.resolve(options.registry);
    registryPromise ??= settings().then((resolved) => registryForSettings(resolved));
    return registryPromise;
  };
  const withStore = async <T>(fn: (store: PendingStore) => Promise<T>): Promise<T> => {
    if (options.store !== undefined && typeof options.store !== 'string') return fn(options.store);
    const resolved = await settings();
    const openOptions: OpenStoreOptions = {
      ...env,
      locations: resolved.paths,
      redactor: resolved.redactor,
      ...(options.storeDrivers ? { drivers: options.storeDrivers } : {}),
    };
    const store = await openStore(resolved.store, openOptions);
    try {
      return await fn(store);
    } finally {
      await store.close().catch(() => undefined);
    }
  };
  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(cwd(), path));

  /** The folder and naming of a download target. */
  const targetOf = async (target: DownloadTarget, requestId: string, endpointId: string) => {
    const details = typeof target === 'object' ? target : {};
    const out = typeof target === 'string' ? target : details.dir;
    const named = outputTarget({
      out: out === undefined ? undefined : absolute(out),
      name: details.name,
      defaultDir: absolute((await settings()).outputDir),
      requestId,
      endpointId,
    });
    return { ...named, force: details.force ?? false };
  };

  const save = async (
    store: PendingStore,
    record: PendingRecord | undefined,
    output: unknown,
    target: DownloadTarget,
    requestId: string,
    endpointId: string,
    deadline: Deadline | undefined,
    signal: AbortSignal | undefined,
  ): Promise<OutputFile[]> => {
    const where = await targetOf(target, requestId, endpointId);
    return saveOutputs({
      store,
      requestId,
      result: output,
      ...where,
      settings: await settings(),
      record: record !== undefined,
      ...(record?.outputs ? { previous: record.outputs } : {}),
      deadline,
      signal,
    });
  };

  const waitOn = async <E extends string>(
    store: PendingStore,
    requestId: string,
    endpointId: E,
    waitOptions: WaitJobOptions,
    deadline: Deadline | undefined,
  ): Promise<JobResult<E>> => {
    const record = await store.get(requestId);
    const onProgress = waitOptions.onProgress;
    const clientNow = await client();
    let done: { output: unknown; record?: PendingRecord };
    if (record && !ACTIVE_STATUSES.includes(record.status)) {
      if (record.status !== 'completed') throw storedFailure(record);
      done = await fetchResult({
        client: clientNow,
        store,
        endpointId,
        requestId,
        record,
        // Files to save need the outputs themselves, not digests the record kept of them.
        need: waitOptions.download === undefined ? 'show' : 'files',
      });
    } else {
      done = await waitAndFinalise({
        client: clientNow,
        store,
        endpointId,
        requestId,
        ...(record ? { record } : {}),
        signal: waitOptions.signal,
        ...(deadline ? { deadline } : {}),
        logs: waitOptions.logs ?? false,
        ...(onProgress
          ? {
              onProgress: (progress) =>
                onProgress({
                  phase: progress.state,
                  requestId,
                  ...(progress.queuePosition === undefined
                    ? {}
                    : { queuePosition: progress.queuePosition }),
                  logs: progress.newLogs,
                  elapsedMs: progress.elapsedMs,
                  via: progress.via,
                }),
            }
          : {}),
      });
    }
    let files: OutputFile[] = [];
    let after = done.record ?? record;
    if (waitOptions.download !== undefined) {
      files = await save(
        store,
        after,
        done.output,
        waitOptions.download,
        requestId,
        endpointId,
        deadline,
        waitOptions.signal,
      );
      if (after && files.length > 0) after = (await store.get(requestId)) ?? after;
      onProgress?.({ phase: 'saved', requestId, files });
    }
    return {
      requestId,
      endpointId,
      output: done.output as EndpointOutput<E>,
      files,
      ...(after ? { record: after } : {}),
    };
  };

  const submitIn = async <E extends string>(
    store: PendingStore,
    endpointId: E,
    input: Record<string, unknown>,
    submitOptions: SubmitJobOptions,
    deadline: Deadline | undefined,
  ) => {
    const onProgress = submitOptions.onProgress;
    const signals = [submitOptions.signal, deadline?.signal].filter(
      (signal): signal is AbortSignal => signal !== undefined,
    );
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    const resolved = await settings();
    const cost = await submitCostOptions(resolved, {
      cacheDir: options.cacheDir,
      credentials: keyOf,
      ...(options.userAgent ? { userAgent: options.userAgent } : {}),
      ...(options.estimate === false ? { estimate: false } : {}),
      maxCostUsd: submitOptions.maxCostUsd,
      maxCostLabel: 'maxCostUsd',
      ...(onProgress
        ? {
            onEstimate: (result: EstimateResult) =>
              onProgress({
                phase: 'estimate',
                endpointId,
                estimate: result.estimate,
                ...(result.estimate === null ? { reason: result.reason } : {}),
              }),
          }
        : {}),
    });
    const intents = intentJournalFor(store, resolved.paths);
    const done = await submitAndRecord({
      cost,
      ...(intents ? { intents } : {}),
      endpointId,
      input,
      registry: await registry(),
      client: await client(),
      store,
      validate: submitOptions.validate !== false,
      strict: submitOptions.strict === true,
      forceInput: submitOptions.forceInput === true,
      validationOverride: 'forceInput: true',
      ...(submitOptions.uploadMode ? { uploadMode: submitOptions.uploadMode } : {}),
      cwd: cwd(),
      ...(submitOptions.webhookUrl ? { webhookUrl: submitOptions.webhookUrl } : {}),
      ...(submitOptions.queue ? { submitOptions: submitOptions.queue } : {}),
      signal,
      ...(onProgress
        ? {
            onUploadProgress: (progress) =>
              onProgress({
                phase: 'upload',
                field: progress.field,
                sent: progress.sent,
                total: progress.total,
              }),
          }
        : {}),
    });
    onProgress?.({
      phase: 'submitted',
      requestId: done.record.requestId,
      endpointId,
      ...(done.record.queuePosition === undefined
        ? {}
        : { queuePosition: done.record.queuePosition }),
    });
    return done;
  };

  const jobFor = <E extends string>(requestId: string, endpointId: E): Job<E> => {
    /** The request as the store knows it now (no record: a request only fal knows). */
    const targetIn = async (store: PendingStore) => {
      const record = await store.get(requestId);
      return { endpointId, requestId, ...(record ? { record } : {}) };
    };
    /** Its output: from the store when it can serve `need`, else from fal (and recorded). */
    const resultIn = async (store: PendingStore, need: 'show' | 'files') => {
      const target = await targetIn(store);
      return {
        target,
        done: await fetchResult({ client: await client(), store, ...target, need }),
      };
    };
    return {
      requestId,
      endpointId,
      record: () => withStore((store) => store.get(requestId)),
      status: (statusOptions = {}) =>
        withStore(async (store) =>
          checkStatus(await client(), store, await targetIn(store), { logs: statusOptions.logs }),
        ),
      wait: (waitOptions = {}) =>
        withStore((store) =>
          waitOn(store, requestId, endpointId, waitOptions, deadlineAfter(waitOptions.timeoutMs)),
        ),
      result: () =>
        withStore(async (store) => {
          const { done } = await resultIn(store, 'show');
          return {
            requestId,
            endpointId,
            output: done.output as EndpointOutput<E>,
            files: [],
            ...(done.record ? { record: done.record } : {}),
          };
        }),
      cancel: () =>
        withStore(async (store) => requestCancel(await client(), store, await targetIn(store))),
      download: (target = true) =>
        withStore(async (store) => {
          const { target: found, done } = await resultIn(store, 'files');
          return save(
            store,
            found.record,
            done.output,
            target,
            requestId,
            endpointId,
            undefined,
            undefined,
          );
        }),
    };
  };

  return {
    run: (endpointId, input, runOptions = {}) => {
      const deadline = deadlineAfter(runOptions.timeoutMs);
      return withStore(async (store) => {
        const submitted = await submitIn(
          store,
          endpointId,
          input as Record<string, unknown>,
          runOptions,
          deadline,
        );
        const done = await waitOn(
          store,
          submitted.record.requestId,
          endpointId,
          runOptions,
          deadline,
        );
        return {
          ...done,
          warnings: submitted.warnings,
          ...(submitted.estimate ? { estimate: submitted.estimate } : {}),
        };
      });
    },
    submit: (endpointId, input, submitOptions = {}) =>
      withStore(async (store) => {
        const submitted = await submitIn(
          store,
          endpointId,
          input as Record<string, unknown>,
          submitOptions,
          undefined,
        );
        return {
          ...jobFor(submitted.record.requestId, endpointId),
          warnings: submitted.warnings,
          ...(submitted.estimate ? { estimate: submitted.estimate } : {}),
        };
      }),
    job: <E extends AnyEndpointId = string>(
      requestId: string,
      jobOptions: { readonly endpointId?: E } = {},
    ) =>
      withStore(async (store) => {
        const target = await resolveTarget(
          store,
          jobOptions.endpointId ?? requestId,
          jobOptions.endpointId === undefined ? undefined : requestId,
          'wait',
        );
        return jobFor(target.requestId, target.endpointId as E);
      }),
    poll: (pollOptions = {}) =>
      withStore(async (store) => pollRequests({ ...pollOptions, store, client: await client() })),
    settings,
    withStore,
  };
}

/**
 * The model registry for resolved settings: the built-in models plus the user's model
 * folders (`<config dir>/models`, then `FALAI_MODELS_DIR` or the config file's `modelsDir`,
 * later ones winning), as the CLI builds it. `options` adds to it (e.g. a `provider` for the
 * endpoints no model file describes).
 */
export function registryForSettings(
  settings: FalaiSettings,
  options: Omit<ModelRegistryOptions, 'userDirs'> = {},
): ModelRegistry {
  const userDirs = [join(settings.configDir, 'models'), settings.modelsDir].filter(
    (dir): dir is string => typeof dir === 'string' && dir.length > 0,
  );
  return createModelRegistry({ ...options, userDirs });
}

/** The error a record that ended without completing stands for. */
function storedFailure(record: PendingRecord): FalaiError {
  const code = (record.error?.code ?? 'REQUEST_FAILED') as FalaiErrorCode;
  const message = record.error?.message ?? `Request ${record.requestId} ended ${record.status}.`;
  return new FalaiError(code, message, {
    details: {
      requestId: record.requestId,
      status: record.status,
      ...(record.error?.details === undefined ? {} : { error: record.error.details }),
    },
  });
}

/**
 * The lifecycle API configured from the environment, as the CLI is: `FALAI_BASE_URL`,
 * `FAL_KEY` (or falai's other key sources), `FALAI_STORE` / `FAL_PENDING_FILE` / the default
 * file store, falai's config file. Nothing is read until a method is called. Use
 * {@link createFalai} for other settings.
 */
export const falai: Falai = /* @__PURE__ */ createFalai();
