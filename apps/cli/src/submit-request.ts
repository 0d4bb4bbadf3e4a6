import type { FalClient, ModelRegistry, PendingRecord, PendingStore } from '@falai/core';
import { applySets, readInputArg } from './input.js';

export interface SubmitRequestOptions {
  readonly endpointId: string;
  readonly inputArg?: string | undefined;
  readonly sets?: readonly string[] | undefined;
  readonly strict?: boolean;
  readonly validate?: boolean;
  readonly uploadMode?: 'auto' | 'data-uri' | 'upload';
  readonly webhookUrl?: string | undefined;
  readonly registry: ModelRegistry;
  readonly client: FalClient;
  readonly store: PendingStore;
  /** Called with each validation note/warning (human mode prints them on stderr). */
  readonly onNote?: (line: string) => void;
}

export interface SubmittedRequest {
  readonly record: PendingRecord;
  readonly statusUrl?: string;
  readonly responseUrl?: string;
  readonly cancelUrl?: string;
  readonly warnings: string[];
}

/** The parts of `SubmitRequestOptions` that come from the command line (`submitFlags()`). */
export function submitOptions(
  args: { readonly endpoint: string; readonly input?: string | undefined },
  flags: {
    readonly set?: readonly string[] | undefined;
    readonly strict: boolean;
    readonly validate: boolean;
    readonly 'upload-mode': 'auto' | 'data-uri' | 'upload';
    readonly webhook?: string | undefined;
  },
): Pick<
  SubmitRequestOptions,
  'endpointId' | 'inputArg' | 'sets' | 'strict' | 'validate' | 'uploadMode' | 'webhookUrl'
> {
  return {
    endpointId: args.endpoint,
    inputArg: args.input,
    sets: flags.set,
    strict: flags.strict,
    validate: flags.validate,
    uploadMode: flags['upload-mode'],
    webhookUrl: flags.webhook,
  };
}

/**
 * The submit pipeline shared by `submit` and `run`: read input, apply `--set`, validate
 * against the model (every issue at once), turn local files into data URIs or uploads,
 * submit once, and record the request (input summary only, never payloads or the key).
 */
export async function submitRequest(options: SubmitRequestOptions): Promise<SubmittedRequest> {
  const core = await import('@falai/core');
  const { endpointId, registry, client, store } = options;
  core.parseEndpointId(endpointId);
  // Read the store once before anything is paid for: a damaged or unreachable store must stop
  // the submit here, not after fal has accepted (and billed) a request we could not record.
  await store.list({ limit: 1 });
  const input = await readInputArg(options.inputArg);
  applySets(input, options.sets ?? [], registry, endpointId);
  const warnings: string[] = [];
  if (options.validate !== false) {
    const report = await registry.validate(endpointId, input, {
      strict: options.strict ?? false,
      checkMedia: true,
    });
    for (const note of report.notes) warnings.push(note);
    for (const warning of report.warnings) warnings.push(warning.message);
    // Throws an InputError whose message is the seed-like block ("❌ Validation failed: …").
    core.assertValid(report);
    const block = core.formatValidationReport(report);
    if (block) options.onNote?.(block);
  }
  const prepared = await core.prepareInput(endpointId, input, {
    registry,
    uploader: client,
    mode: options.uploadMode ?? 'auto',
    cwd: process.cwd(),
  });
  for (const warning of prepared.warnings) {
    warnings.push(warning);
    options.onNote?.(`⚠️  ${warning}`);
  }
  const submitted = await client.submit(
    endpointId,
    prepared.input,
    options.webhookUrl ? { webhookUrl: options.webhookUrl } : {},
  );
  const record = core.newPendingRecord({
    requestId: submitted.requestId,
    endpointId,
    ...(submitted.queuePosition === undefined ? {} : { queuePosition: submitted.queuePosition }),
    urls: {
      ...(submitted.statusUrl ? { status: submitted.statusUrl } : {}),
      ...(submitted.responseUrl ? { response: submitted.responseUrl } : {}),
      ...(submitted.cancelUrl ? { cancel: submitted.cancelUrl } : {}),
    },
    input: prepared.summary,
    ...(options.webhookUrl ? { webhookUrl: options.webhookUrl } : {}),
    submitAttempts: submitted.attempts ?? 1,
  });
  try {
    await store.put(record);
  } catch (error) {
    // fal accepted (and may bill) the request: never lose its id.
    const cause = core.toFalaiError(error);
    throw new core.StoreError(
      'STORE_ERROR',
      `Request ${record.requestId} was submitted to ${endpointId} but could not be recorded (${cause.message}). Keep this id: falai wait ${endpointId} ${record.requestId}`,
      {
        store: store.kind,
        operation: 'put',
        cause: error,
        details: { requestId: record.requestId, endpointId },
      },
    );
  }
  return {
    record,
    ...(submitted.statusUrl ? { statusUrl: submitted.statusUrl } : {}),
    ...(submitted.responseUrl ? { responseUrl: submitted.responseUrl } : {}),
    ...(submitted.cancelUrl ? { cancelUrl: submitted.cancelUrl } : {}),
    warnings,
  };
}
