import type { EstimateResult } from '../cost/estimate.js';
import { costTags } from '../cost/record-cost.js';
import { AbortedError, FalaiError, StoreError, toFalaiError } from '../errors/falai-error.js';
import { type PrepareProgress, prepareInput } from '../media/prepare-input.js';
import { assertResolved } from '../models/provider.js';
import type { ModelRegistry } from '../models/registry.js';
import { assertValid, formatValidationReport } from '../models/report.js';
import type { ValidateOptions } from '../models/validate.js';
import { parseEndpointId } from '../queue/endpoint-id.js';
import type { FalClient, SubmitOptions, SubmitResult } from '../queue/types.js';
import {
  MAX_PARENTS,
  newPendingRecord,
  type ParentRef,
  type PendingRecord,
  parsePendingRecord,
} from '../store/record.js';
import type { PendingStore } from '../store/types.js';
import { readBinaryInputs } from './binary-input.js';
import { type CriticalSection, criticalSection, type DeferredSignal } from './critical-section.js';
import { inputHash, type SubmitIntent, type SubmitIntentJournal } from './intents.js';
import { resolveReferences } from './references.js';
import {
  planSubmitCost,
  releaseSubmitCost,
  type SubmitCostOptions,
  type SubmitCostPlan,
  submitOutcomeUnknown,
  unknownOutcomeError,
} from './submit-cost.js';

/** Where a held-back signal found the submit. */
export type SubmitPhase = 'submit' | 'record';

/** A signal that arrived between the POST and the stored record, with what is known then. */
export interface SubmitInterrupt {
  readonly signal: DeferredSignal;
  /** How many signals have arrived so far (a second one stops waiting for the store). */
  readonly count: number;
  /** `submit`: fal has not answered the POST yet; `record`: the id is known, not yet stored. */
  readonly phase: SubmitPhase;
  readonly endpointId: string;
  readonly requestId?: string;
  /** The command that picks the request up again, once its id is known. */
  readonly resume?: string;
  /** One line saying what happens now, for a terminal or a log. */
  readonly message: string;
}

export interface SubmitAndRecordOptions {
  readonly endpointId: string;
  /**
   * The model input. Local file paths in file fields, and bytes anywhere (Buffers, typed
   * arrays, Blobs, Node or web streams), are sent as data URIs or uploads.
   */
  readonly input: Record<string, unknown>;
  readonly registry: ModelRegistry;
  readonly client: FalClient;
  readonly store: PendingStore;
  /** Validate the input against the model first (default true). */
  readonly validate?: boolean;
  /** Unknown endpoints are errors (MODEL_UNKNOWN) instead of warnings. */
  readonly strict?: boolean;
  /** Further validation options (media checks are on unless turned off here). */
  readonly validation?: Omit<ValidateOptions, 'strict'>;
  /**
   * Send an input the model definition objects to: its issues (unknown field, type, range,
   * enum…) only warn. A mistyped field must never cost money, so the default is false, and a
   * missing required field or an unusable local file still blocks. @default false
   */
  readonly forceInput?: boolean;
  /**
   * How the user sends an input the model definition objects to (the CLI's `--force-input`),
   * named in the validation error when it would let the input through.
   */
  readonly validationOverride?: string;
  /** How local files are sent (default `auto`: by size). */
  readonly uploadMode?: 'auto' | 'data-uri' | 'upload';
  /** Where relative paths start (default `process.cwd()`). */
  readonly cwd?: string;
  /** fal POSTs the result here. */
  readonly webhookUrl?: string;
  /**
   * Requests this one is made from (`rerun`'s original), recorded in `provenance.parents`
   * beside those of `@last` / `@<request-id>` references in the input's file fields.
   */
  readonly parents?: readonly ParentRef[];
  /** Labels stored on the record from the start (e.g. the chat session that asked for it). */
  readonly tags?: Readonly<Record<string, string>>;
  /** Other submit options (priority, hints, storage lifecycle). */
  readonly submitOptions?: Omit<SubmitOptions, 'webhookUrl' | 'signal' | 'timeoutMs'>;
  /**
   * Stops validation and uploads. It never cuts the POST short: once the request is on its
   * way, only fal's answer (or the HTTP timeout) ends the wait, so a paid id is never lost.
   */
  readonly signal?: AbortSignal | undefined;
  /** Each validation note or warning block, as it is found. */
  readonly onNote?: (line: string) => void;
  /** Progress of each upload of a local file or of bytes. */
  readonly onUploadProgress?: (progress: PrepareProgress) => void;
  /**
   * The cost step, after validation and before anything is sent (uploads included): the
   * estimate, `maxCostUsd`, and budget reservations (see `SubmitCostOptions`).
   */
  readonly cost?: SubmitCostOptions;
  /**
   * Where "sent, answer unknown" is noted before the POST (`intentJournalFor(store)`), so
   * `falai recover` can find a request whose record was never written. None: no note.
   */
  readonly intents?: SubmitIntentJournal;
  /** SIGINT/SIGTERM between the POST and the stored record (see {@link submitAndRecord}). */
  readonly signals?: {
    /**
     * Raise a held-back signal again once the record is stored (or could not be), so the
     * program ends as it would have (default true). `false`: the result's `interrupted`
     * (or the error's `details.signal`) tells the caller, who decides.
     */
    readonly replay?: boolean;
    /**
     * Told of each signal as it arrives, and again when fal's answer names the request while
     * a signal waits. Default: the message on stderr, so a paid id is never lost silently.
     */
    readonly onInterrupt?: (event: SubmitInterrupt) => void;
  };
}

export interface SubmitAndRecordResult {
  /** The stored record. */
  readonly record: PendingRecord;
  /** fal's answer to the POST. */
  readonly submitted: SubmitResult;
  /** Validation notes and upload warnings. */
  readonly warnings: string[];
  /** A signal that arrived while the request was submitted and recorded (replay: false). */
  readonly interrupted?: DeferredSignal;
  /** The cost estimate (or why there is none), when a cost estimator was given. */
  readonly estimate?: EstimateResult;
  /** Budget reservations held for the request (settled when its outcome is recorded). */
  readonly reservations?: readonly string[];
}

/** The command that picks a submitted request up again. */
export function resumeCommand(endpointId: string, requestId: string): string {
  return `falai wait ${endpointId} ${requestId}`;
}

/**
 * Submits one request and records it, the step every front end shares: check the store can
 * be read (before anything is paid for), validate the input against the model, turn local
 * files into data URIs or uploads, POST once, and put the record (input summary only, never
 * payloads or the key).
 *
 * From just before the POST until the record is stored, SIGINT and SIGTERM are held back
 * (see {@link criticalSection}): a request fal has accepted, and may bill, is never lost to a
 * Ctrl-C. Each signal is reported through `signals.onInterrupt` (with the request id once
 * fal has answered); a second signal while the store is still busy (e.g. waiting for
 * another process's lock) stops waiting and throws `ABORTED` with the id, the endpoint and
 * the resume command in the message and `details`. A record that cannot be written throws
 * `STORE_ERROR` (or `ABORTED` when a signal is waiting) carrying the same. Afterwards a
 * held-back signal is raised again, unless `signals.replay` is false.
 */
export async function submitAndRecord(
  options: SubmitAndRecordOptions,
): Promise<SubmitAndRecordResult> {
  const { endpointId, registry, store } = options;
  parseEndpointId(endpointId);
  // Read the store once before anything is paid for: a damaged or unreachable store must stop
  // the submit here, not after fal has accepted (and billed) a request we could not record.
  await store.list({ limit: 1 });
  stopIfAborted(options.signal);
  // An id fal's catalogue does not list (when the registry has one) is refused here, validated
  // or not: MODEL_UNKNOWN naming the closest ids, nothing sent.
  assertResolved(
    await registry.resolve(endpointId, options.signal ? { signal: options.signal } : {}),
  );
  // `@last` / `@<request-id>[#n]` in file fields become the earlier output's URL (reused
  // while it answers, else its saved copy uploaded), each a lineage edge; unknown ids stop here.
  const references = await resolveReferences({
    endpointId,
    input: options.input,
    registry,
    store,
    uploader: options.client,
    signal: options.signal,
  });
  for (const note of references.notes) options.onNote?.(note);
  const parents = [...(options.parents ?? []), ...references.parents].slice(0, MAX_PARENTS);
  // Bytes become data URIs first, so validation and media checks see them like any file.
  const binary = await readBinaryInputs(references.input, {
    signal: options.signal,
  });
  const input = binary.input;
  const warnings: string[] = [];
  if (options.validate !== false) {
    const report = await registry.validate(endpointId, input, {
      checkMedia: true,
      cwd: options.cwd,
      ...options.validation,
      ...(options.forceInput === undefined ? {} : { force: options.forceInput }),
      strict: options.strict ?? false,
    });
    for (const note of report.notes) warnings.push(note);
    for (const warning of report.warnings) warnings.push(warning.message);
    // Throws an InputError whose message is the seed-like block ("❌ Validation failed: …").
    assertValid(report, { override: options.validationOverride });
    const block = formatValidationReport(report);
    if (block) options.onNote?.(block);
  }
  // What it costs, before anything is sent (uploads included): the estimate, the max cost and
  // the budget reservations; BUDGET_EXCEEDED or COST_UNKNOWN refuse here, nothing sent.
  const definition = options.cost ? registry.get(endpointId) : undefined;
  const cost = options.cost
    ? await planSubmitCost(options.cost, {
        endpointId,
        input,
        ...(definition ? { definition } : {}),
        store,
        signal: options.signal,
      })
    : undefined;
  // Once fal may hold the request, its reservations stay (settled at finalise, or by recover).
  let sent = false;
  try {
    return await submitPrepared(options, {
      input,
      parents,
      binary,
      warnings,
      cost,
      markSent: () => {
        sent = true;
      },
    });
  } catch (error) {
    if (!sent) await releaseSubmitCost(store, cost);
    throw error;
  }
}

/** The rest of {@link submitAndRecord}: files, the POST and the record. */
async function submitPrepared(
  options: SubmitAndRecordOptions,
  state: {
    readonly input: Record<string, unknown>;
    readonly parents: readonly ParentRef[];
    readonly binary: Awaited<ReturnType<typeof readBinaryInputs>>;
    readonly warnings: string[];
    readonly cost: SubmitCostPlan | undefined;
    readonly markSent: () => void;
  },
): Promise<SubmitAndRecordResult> {
  const { endpointId, registry, client, store } = options;
  const { input, binary, warnings, cost } = state;
  const prepared = await prepareInput(endpointId, input, {
    registry,
    uploader: client,
    mode: options.uploadMode ?? 'auto',
    cwd: options.cwd ?? process.cwd(),
    bytes: binary.bytes,
    uploadBytes: (bytes, upload) => client.upload(bytes, upload),
    ...(options.onUploadProgress ? { onProgress: options.onUploadProgress } : {}),
    signal: options.signal,
  });
  for (const warning of prepared.warnings) {
    warnings.push(warning);
    options.onNote?.(`⚠️  ${warning}`);
  }
  stopIfAborted(options.signal);

  const report = options.signals?.onInterrupt ?? writeInterrupt;
  let phase: SubmitPhase = 'submit';
  let requestId: string | undefined;
  let signalsBeforeRecord = 0;
  const tell = (signal: DeferredSignal, count: number, arrived = true) => {
    const again = arrived && phase === 'record' && count > 1;
    report(interruptEvent({ signal, count, phase, endpointId, requestId, again }));
  };
  const estimate = cost?.estimate?.estimate ?? undefined;
  const reservations = cost?.reservations ?? [];
  const hash = inputHash(prepared.input);
  await warnOfLostTwin(options, hash, warnings);
  return criticalSection(
    async (section) => {
      const intent = await noteIntent(options, {
        endpointId,
        inputHash: hash,
        at: new Date().toISOString(),
        store: store.location,
        reservations,
        ...(estimate
          ? {
              estimateUsd: estimate.usd,
              price: { unitPrice: estimate.unitPrice, unit: estimate.unit, currency: 'USD' },
            }
          : {}),
      });
      let submitted: SubmitResult;
      try {
        submitted = await client.submit(endpointId, prepared.input, {
          ...options.submitOptions,
          ...(options.webhookUrl ? { webhookUrl: options.webhookUrl } : {}),
        });
      } catch (error) {
        const failure = toFalaiError(error);
        if (submitOutcomeUnknown(failure)) {
          // fal may hold it: the intent and the reservations stay for `falai recover`.
          state.markSent();
          throw unknownOutcomeError(failure, endpointId);
        }
        if (intent) await options.intents?.resolve(intent.id).catch(() => undefined);
        throw error;
      }
      state.markSent();
      requestId = submitted.requestId;
      phase = 'record';
      signalsBeforeRecord = section.count;
      if (section.signal) tell(section.signal, section.count, false);
      let record: PendingRecord;
      try {
        const fresh = newPendingRecord({
          requestId: submitted.requestId,
          endpointId,
          ...(submitted.queuePosition === undefined
            ? {}
            : { queuePosition: submitted.queuePosition }),
          urls: {
            ...(submitted.statusUrl ? { status: submitted.statusUrl } : {}),
            ...(submitted.responseUrl ? { response: submitted.responseUrl } : {}),
            ...(submitted.cancelUrl ? { cancel: submitted.cancelUrl } : {}),
          },
          input: prepared.summary,
          ...(options.webhookUrl ? { webhookUrl: options.webhookUrl } : {}),
          submitAttempts: submitted.attempts ?? 1,
        });
        const tags = costTags({
          estimate,
          reservations,
          inputHash: hash,
        });
        record = parsePendingRecord({
          ...fresh,
          tags: { ...options.tags, ...fresh.tags, ...tags },
          ...(state.parents.length > 0 ? { provenance: { parents: [...state.parents] } } : {}),
        });
      } catch (error) {
        // fal has it: whatever went wrong building its record, the id goes with the error.
        throw unrecordedError(store, endpointId, submitted.requestId, error);
      }
      // One more signal once recording has begun stops the wait (two in all, at least).
      await recordOrExplain(store, record, section, Math.max(2, signalsBeforeRecord + 1));
      if (intent) await options.intents?.resolve(intent.id).catch(() => undefined);
      return {
        record,
        submitted,
        warnings,
        ...(cost?.estimate ? { estimate: cost.estimate } : {}),
        ...(reservations.length > 0 ? { reservations } : {}),
        ...(section.signal ? { interrupted: section.signal } : {}),
      };
    },
    { onSignal: tell, replay: options.signals?.replay ?? true },
  );
}

/**
 * Before sending an input again: an earlier submit of exactly this input whose answer was never
 * recorded (its note is still there and its process is gone) may be running, and billed, at
 * fal. Said as a warning (the user may well mean to send it twice), with how to find it.
 */
async function warnOfLostTwin(
  options: SubmitAndRecordOptions,
  hash: string,
  warnings: string[],
): Promise<void> {
  if (!options.intents) return;
  const twins = await options.intents.list().catch(() => []);
  const lost = twins.find(
    (intent) =>
      intent.endpointId === options.endpointId && intent.inputHash === hash && !alive(intent.pid),
  );
  if (!lost) return;
  const line = `An earlier submit of this same input to ${options.endpointId} (at ${lost.at}) never had its answer recorded: fal may be running it already. \`falai recover --endpoint ${options.endpointId}\` finds it.`;
  warnings.push(line);
  options.onNote?.(`⚠️  ${line}`);
}

/** Whether a process of this machine is still running. */
function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Notes "sent, answer unknown" before the POST. A journal that cannot be written does not stop
 * the submit (the note is a safety net, not the record): it is said on stderr.
 */
async function noteIntent(
  options: SubmitAndRecordOptions,
  intent: Omit<SubmitIntent, 'version' | 'id' | 'pid'>,
): Promise<SubmitIntent | undefined> {
  if (!options.intents) return undefined;
  try {
    return await options.intents.record(intent);
  } catch (error) {
    const line = `⚠️  falai could not note this submit for recovery in ${options.intents.dir} (${toFalaiError(error).message}); it is sent all the same.`;
    if (options.onNote) options.onNote(line);
    else process.stderr.write(`${line}\n`);
    return undefined;
  }
}

/**
 * Puts the record. A failure, or a second signal while the put waits, becomes an error that
 * names the request so its id is never lost.
 */
async function recordOrExplain(
  store: PendingStore,
  record: PendingRecord,
  section: CriticalSection,
  stopAfterSignals: number,
): Promise<void> {
  const { requestId, endpointId } = record;
  const resume = resumeCommand(endpointId, requestId);
  const put = store.put(record).then(
    () => ({ ok: true as const }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const outcome = await Promise.race([
    put,
    section.signals(stopAfterSignals).then((signal) => ({ ok: 'abandoned' as const, signal })),
  ]);
  if (outcome.ok === true) return;
  const details = { requestId, endpointId, recorded: false, resume };
  if (outcome.ok === 'abandoned') {
    throw new AbortedError(
      'ABORTED',
      `Interrupted (${outcome.signal}) while recording request ${requestId}: fal accepted it at ${endpointId} but the store (${store.location}) had not written it yet. Keep this id: ${resume}`,
      { details: { ...details, signal: outcome.signal } },
    );
  }
  const cause = toFalaiError(outcome.error);
  const what = `Request ${requestId} was submitted to ${endpointId} but could not be recorded (${cause.message}). Keep this id: ${resume}`;
  if (section.signal) {
    throw new AbortedError('ABORTED', `Interrupted (${section.signal}). ${what}`, {
      cause: outcome.error,
      details: { ...details, signal: section.signal },
    });
  }
  throw unrecordedError(store, endpointId, requestId, outcome.error);
}

/** A request fal accepted whose record could not be built or written: STORE_ERROR, with its id. */
function unrecordedError(
  store: PendingStore,
  endpointId: string,
  requestId: string,
  error: unknown,
): StoreError {
  const cause = toFalaiError(error);
  const resume = resumeCommand(endpointId, requestId);
  return new StoreError(
    'STORE_ERROR',
    `Request ${requestId} was submitted to ${endpointId} but could not be recorded (${cause.message}). Keep this id: ${resume}`,
    {
      store: store.kind,
      operation: 'put',
      location: store.location,
      cause: error,
      details: { requestId, endpointId, recorded: false, resume },
    },
  );
}

function interruptEvent(init: {
  signal: DeferredSignal;
  count: number;
  phase: SubmitPhase;
  endpointId: string;
  requestId: string | undefined;
  /** A further signal while recording: falai stops waiting for the store. */
  again: boolean;
}): SubmitInterrupt {
  const { signal, count, phase, endpointId, requestId, again } = init;
  if (phase === 'submit' || requestId === undefined) {
    return {
      signal,
      count,
      phase: 'submit',
      endpointId,
      message: `Interrupted (${signal}): waiting for fal to answer the submit to ${endpointId} so a paid request is not lost; falai stops as soon as it is recorded.`,
    };
  }
  const resume = resumeCommand(endpointId, requestId);
  return {
    signal,
    count,
    phase,
    endpointId,
    requestId,
    resume,
    message: again
      ? `Interrupted again (${signal}): not waiting for the store. Request ${requestId} (${endpointId}) may not be recorded; keep this id: ${resume}`
      : `Interrupted (${signal}): recording request ${requestId} (${endpointId}) before stopping; send the signal again to stop now. If it is not recorded, resume with: ${resume}`,
  };
}

/** The default `onInterrupt`: one line on stderr (library code never writes to stdout). */
function writeInterrupt(event: SubmitInterrupt): void {
  process.stderr.write(`${event.message}\n`);
}

function stopIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  if (FalaiError.isInstance(reason)) throw reason;
  const timeout = reason instanceof Error && reason.name === 'TimeoutError';
  throw new AbortedError(
    timeout ? 'TIMEOUT' : 'ABORTED',
    timeout
      ? 'Timed out before the request was submitted; nothing was sent to fal.'
      : 'Stopped before the request was submitted; nothing was sent to fal.',
    { cause: reason },
  );
}
