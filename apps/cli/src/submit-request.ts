import type {
  EstimateResult,
  FalClient,
  ModelRegistry,
  PendingRecord,
  PendingStore,
  Redactor,
  SubmitOutput,
} from '@falai/core';
import type { SubmitCostOptions, SubmitIntentJournal } from '@falai/core/internal';
import { estimateFields } from './cost.js';
import { applySets, readInputArg } from './input.js';
import { sanitise } from './output.js';

export interface SubmitRequestOptions {
  readonly endpointId: string;
  /** The command's redactor: what is printed on an interrupt goes through it. */
  readonly redactor: Redactor;
  readonly inputArg?: string | undefined;
  readonly sets?: readonly string[] | undefined;
  readonly strict?: boolean;
  readonly validate?: boolean;
  /** Send an input the model definition objects to (`--force-input`): its issues only warn. */
  readonly forceInput?: boolean;
  readonly uploadMode?: 'auto' | 'data-uri' | 'upload';
  readonly webhookUrl?: string | undefined;
  /** The chat session that asked (`--session`), stored as the record's `openclaw.session` tag. */
  readonly session?: string | undefined;
  readonly registry: ModelRegistry;
  readonly client: FalClient;
  readonly store: PendingStore;
  /** Called with each validation note/warning (human mode prints them on stderr). */
  readonly onNote?: (line: string) => void;
  /** Stops validation and uploads (`--timeout`); never the POST once it is on its way. */
  readonly signal?: AbortSignal;
  /** The command that resumes this request, for the message after an interrupt. */
  readonly resume?: (requestId: string) => string;
  /** The cost step: the estimate, `--max-cost`, the config's budgets (core's `submitCostOptions`). */
  readonly cost?: SubmitCostOptions;
  /** Where "sent, answer unknown" is noted before the POST, for `falai recover`. */
  readonly intents?: SubmitIntentJournal;
}

export interface SubmittedRequest {
  readonly record: PendingRecord;
  readonly statusUrl?: string;
  readonly responseUrl?: string;
  readonly cancelUrl?: string;
  readonly warnings: string[];
  /** The cost estimate (or why there is none). */
  readonly estimate?: EstimateResult;
}

/** The parts of `SubmitRequestOptions` that come from the command line (`submitFlags()`). */
export function submitOptions(
  args: { readonly endpoint: string; readonly input?: string | undefined },
  flags: {
    readonly set?: readonly string[] | undefined;
    readonly strict: boolean;
    readonly validate: boolean;
    readonly 'force-input'?: boolean;
    readonly 'upload-mode': 'auto' | 'data-uri' | 'upload';
    readonly webhook?: string | undefined;
    readonly session?: string | undefined;
  },
): Pick<
  SubmitRequestOptions,
  | 'endpointId'
  | 'inputArg'
  | 'sets'
  | 'strict'
  | 'validate'
  | 'forceInput'
  | 'uploadMode'
  | 'webhookUrl'
  | 'session'
> {
  return {
    endpointId: args.endpoint,
    inputArg: args.input,
    sets: flags.set,
    strict: flags.strict,
    validate: flags.validate,
    forceInput: flags['force-input'] === true,
    uploadMode: flags['upload-mode'],
    webhookUrl: flags.webhook,
    session: flags.session,
  };
}

/**
 * The submit step of `submit` and `run`: read the input, apply `--set`, then core's
 * `submitAndRecord` (store check, validation, files, one POST, the record), which holds back
 * SIGINT/SIGTERM from the POST until the record is stored. A signal that arrived meanwhile
 * ends the command afterwards with exit 130/143, the request id and how to resume; every
 * signal is reported on stderr as it arrives (even under --json or --quiet: it is about a
 * paid request).
 */
export async function submitRequest(options: SubmitRequestOptions): Promise<SubmittedRequest> {
  const core = await import('@falai/core/internal');
  const { endpointId, registry, client, store } = options;
  core.parseEndpointId(endpointId);
  const input = await readInputArg(options.inputArg);
  applySets(input, options.sets ?? [], registry, endpointId);
  const done = await core.submitAndRecord({
    endpointId,
    input,
    registry,
    client,
    store,
    validate: options.validate !== false,
    strict: options.strict === true,
    // What the model definition decides blocks unless --force-input (issue #11 item 13).
    forceInput: options.forceInput === true,
    validationOverride: '--force-input',
    ...(options.uploadMode ? { uploadMode: options.uploadMode } : {}),
    cwd: process.cwd(),
    ...(options.webhookUrl ? { webhookUrl: options.webhookUrl } : {}),
    ...(options.session ? { tags: { 'openclaw.session': options.session } } : {}),
    signal: options.signal,
    ...(options.onNote ? { onNote: options.onNote } : {}),
    ...(options.cost ? { cost: options.cost } : {}),
    ...(options.intents ? { intents: options.intents } : {}),
    signals: {
      replay: false,
      onInterrupt: (event) =>
        process.stderr.write(`${sanitise(event.message, options.redactor)}\n`),
    },
  });
  const { record, submitted } = done;
  if (done.interrupted) {
    const resume = options.resume?.(record.requestId) ?? `falai wait ${record.requestId}`;
    throw new core.AbortedError(
      'ABORTED',
      `Interrupted (${done.interrupted}) after request ${record.requestId} was submitted to ${endpointId} and recorded; it is still pending. Resume with: ${resume}`,
      {
        details: {
          requestId: record.requestId,
          endpointId,
          recorded: true,
          signal: done.interrupted,
          resume,
        },
      },
    );
  }
  return {
    record,
    ...(submitted.statusUrl ? { statusUrl: submitted.statusUrl } : {}),
    ...(submitted.responseUrl ? { responseUrl: submitted.responseUrl } : {}),
    ...(submitted.cancelUrl ? { cancelUrl: submitted.cancelUrl } : {}),
    warnings: done.warnings,
    ...(done.estimate ? { estimate: done.estimate } : {}),
  };
}

/**
 * The `--json` answer of a submit (`submit`, `rerun`): the request, its URLs, where it is
 * recorded, the warnings and the cost estimate.
 */
export function submitOutput(
  request: Pick<
    SubmittedRequest,
    'record' | 'statusUrl' | 'responseUrl' | 'cancelUrl' | 'warnings'
  > & {
    readonly estimate?: EstimateResult | undefined;
  },
  store: string,
): SubmitOutput {
  const { record } = request;
  return {
    requestId: record.requestId,
    request_id: record.requestId,
    endpointId: record.endpointId,
    status: record.status,
    ...(record.queuePosition === undefined ? {} : { queuePosition: record.queuePosition }),
    ...(request.statusUrl ? { statusUrl: request.statusUrl } : {}),
    ...(request.responseUrl ? { responseUrl: request.responseUrl } : {}),
    ...(request.cancelUrl ? { cancelUrl: request.cancelUrl } : {}),
    ...(record.webhookUrl ? { webhookUrl: record.webhookUrl } : {}),
    store,
    warnings: request.warnings,
    ...estimateFields(request.estimate),
  };
}
