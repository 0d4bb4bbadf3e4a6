import {
  ACTIVE_STATUSES,
  FalaiError,
  InputError,
  type Job,
  type PendingRecord,
  type RequestStatus,
  TERMINAL_STATUSES,
} from '@falai/core';
import {
  findOutputFiles,
  findRecord,
  omittedDataUris,
  promptOf,
  storedResultHasFiles,
} from '@falai/core/internal';
import { type ArgsOf, endpointIdOf, parseArgs, requestIdOf, type ToolName } from './args.js';
import {
  existingFiles,
  type FollowOutcome,
  isStopped,
  type JobView,
  type McpContext,
  type SavedFile,
  toPlainJson,
} from './context.js';
import { type InlineImage, inlineImages } from './images.js';
import { confinedDir, confineInputFiles } from './paths.js';
import { type JsonSchema, TOOL_SCHEMAS } from './schemas.js';

/** What a tool call has besides its arguments. */
export interface ToolCall {
  /** Aborted when the client cancels the call (the job itself goes on). */
  readonly signal: AbortSignal;
  /** Reports progress to clients that asked for it. */
  readonly progress?: (message: string) => void;
}

/** What a tool returns; the server turns it into MCP content and redacts it. */
export interface ToolOutcome {
  readonly structured: Record<string, unknown>;
  /** A few lines for the agent; the structured content follows them as JSON. */
  readonly summary: string;
  readonly images?: readonly InlineImage[];
  readonly isError?: boolean;
}

/** One MCP tool: its schemas, hints, and what it does. */
export interface ToolDefinition {
  readonly name: ToolName;
  readonly title: string;
  readonly description: string;
  readonly inputSchema: JsonSchema;
  readonly outputSchema: JsonSchema;
  readonly annotations: {
    readonly readOnlyHint?: boolean;
    readonly destructiveHint?: boolean;
    readonly idempotentHint?: boolean;
    readonly openWorldHint?: boolean;
  };
  /** `optional`: clients that support MCP tasks may run it as a task. */
  readonly taskSupport?: 'optional';
  run(args: unknown, call: ToolCall): Promise<ToolOutcome>;
}

/** The most images a result inlines. */
const MAX_INLINE_IMAGES = 4;
/** How long a status check that found a finished job waits for its outcome to be recorded. */
const SETTLE_MS = 15_000;

/** Every tool of the server, built on one context. */
export function createTools(ctx: McpContext): ToolDefinition[] {
  const tool = <N extends ToolName>(
    name: N,
    spec: Omit<ToolDefinition, 'name' | 'inputSchema' | 'outputSchema' | 'run'>,
    run: (args: ArgsOf<N>, call: ToolCall) => Promise<ToolOutcome>,
  ): ToolDefinition => ({
    name,
    ...spec,
    inputSchema: TOOL_SCHEMAS[name].input,
    outputSchema: TOOL_SCHEMAS[name].output,
    run: (args, call) => run(parseArgs(name, args), call),
  });

  return [
    tool(
      'search_models',
      {
        title: 'Search fal models',
        description:
          "Finds fal models by words and category in fal's catalogue, with unit prices and typical run times. Use it to pick an endpoint_id for generate.",
        annotations: { readOnlyHint: true, openWorldHint: true },
      },
      async (args, call) => searchModels(ctx, args, call),
    ),
    tool(
      'get_model_schema',
      {
        title: "Show a model's input schema",
        description:
          "The input of any fal model as JSON Schema, with its required fields, file fields and an example: from falai's model files, else fal's catalogue (cached).",
        annotations: { readOnlyHint: true, openWorldHint: true },
      },
      async (args) => modelSchema(ctx, args),
    ),
    tool(
      'estimate_cost',
      {
        title: 'Estimate the cost of a generation',
        description:
          'Estimates what one call to a model costs, with its unit price, and checks the input against the model. Nothing is submitted. The basis field says what the estimate rests on.',
        annotations: { readOnlyHint: true, openWorldHint: true },
      },
      async (args, call) => estimateCost(ctx, args, call),
    ),
    tool(
      'generate',
      {
        title: 'Generate an image, video or audio',
        description:
          "Validates the input, submits it to fal (a paid job), records it in falai's store, and waits a bounded time for the result (saved files, with small images shown inline). A job that takes longer is NOT lost: you get its request_id, status and ETA; check again with get_job_result. Slow models (video) often outlive the wait: then say so and check back later. An invalid input is refused before anything is paid for.",
        annotations: {
          readOnlyHint: false,
          destructiveHint: false,
          idempotentHint: false,
          openWorldHint: true,
        },
        ...(ctx.tasks ? { taskSupport: 'optional' as const } : {}),
      },
      async (args, call) => generate(ctx, args, call),
    ),
    tool(
      'get_job_status',
      {
        title: 'Check a job',
        description:
          'Asks fal where a job is (queued with its position, running, or finished) and records it; with the ETA. Does not wait.',
        annotations: { readOnlyHint: false, idempotentHint: true, openWorldHint: true },
      },
      async (args, call) => jobStatus(ctx, args, call),
    ),
    tool(
      'get_job_result',
      {
        title: "Get a job's result",
        description:
          'The result of a job: its saved files (downloaded when needed) and output, small images inline. With wait_seconds it waits (bounded) for a job still running; otherwise a running job answers with its status and ETA.',
        annotations: { readOnlyHint: false, idempotentHint: true, openWorldHint: true },
      },
      async (args, call) => jobResult(ctx, args, call),
    ),
    tool(
      'download_job_outputs',
      {
        title: "Save a job's files",
        description:
          "Downloads a finished job's output files into the output folder (or a folder inside it), and records their paths.",
        annotations: { readOnlyHint: false, idempotentHint: true, openWorldHint: true },
      },
      async (args) => downloadOutputs(ctx, args),
    ),
    tool(
      'list_jobs',
      {
        title: 'List jobs',
        description:
          "The jobs in falai's store, newest first: pending ones (queued, running) and recent ones, from this session and earlier ones.",
        annotations: { readOnlyHint: true, openWorldHint: false },
      },
      async (args) => listJobs(ctx, args),
    ),
    tool(
      'cancel_job',
      {
        title: 'Cancel a job',
        description:
          'Asks fal to cancel a job. A queued job is removed; a running one may still finish (and be billed): its status shows how it ends.',
        annotations: {
          readOnlyHint: false,
          destructiveHint: true,
          idempotentHint: true,
          openWorldHint: true,
        },
      },
      async (args) => cancelJob(ctx, args),
    ),
  ];
}

// ── discovery ───────────────────────────────────────────────────────────────

async function searchModels(
  ctx: McpContext,
  args: ArgsOf<'search_models'>,
  call: ToolCall,
): Promise<ToolOutcome> {
  const catalogue = ctx.catalogue;
  if (!catalogue) {
    const models = ctx.registry
      .list()
      .filter((model) => matches(model, args.query, args.category))
      .slice(0, args.limit ?? 10)
      .map((model) => ({
        endpointId: model.endpointId,
        name: model.name,
        category: model.category,
        description: model.description,
        status: 'active',
      }));
    return {
      structured: {
        models,
        hasMore: false,
        source: 'cache',
        notes: ["Searched falai's model files only: this server has no catalogue."],
      },
      summary: `${models.length} model(s) from falai's model files.`,
    };
  }
  const found = await catalogue.search({
    ...(args.query ? { text: args.query } : {}),
    ...(args.category ? { category: args.category } : {}),
    limit: args.limit ?? 10,
    signal: call.signal,
  });
  const models = found.models.map((model) => ({
    endpointId: model.endpointId,
    name: model.name,
    category: model.category,
    description: model.description,
    status: model.status,
    ...(model.durationEstimate === undefined ? {} : { durationSeconds: model.durationEstimate }),
    ...(model.price
      ? {
          price: {
            unitPrice: model.price.unitPrice,
            unit: model.price.unit,
            currency: model.price.currency,
          },
        }
      : {}),
  }));
  const lines = models.map(
    (model) =>
      `- ${model.endpointId} — ${model.name} (${model.category}${model.price ? `, ${model.price.unitPrice} ${model.price.currency}/${model.price.unit}` : ''}${model.durationSeconds === undefined ? '' : `, ~${model.durationSeconds} s`})`,
  );
  return {
    structured: { models, hasMore: found.hasMore, source: found.source, notes: [...found.notes] },
    summary: models.length
      ? `${models.length} model(s)${found.hasMore ? ' (more match: raise limit or refine the query)' : ''}:\n${lines.join('\n')}`
      : 'No model matches; try other words or no category.',
  };
}

function matches(
  model: { endpointId: string; name: string; category: string; description: string },
  query: string | undefined,
  category: string | undefined,
): boolean {
  if (category && model.category !== category) return false;
  const hay = `${model.endpointId} ${model.name} ${model.description}`.toLowerCase();
  return (query ?? '')
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((word) => hay.includes(word));
}

async function modelSchema(
  ctx: McpContext,
  args: ArgsOf<'get_model_schema'>,
): Promise<ToolOutcome> {
  const endpointId = endpointIdOf(args.endpoint_id);
  const resolution = await ctx.registry.resolve(endpointId);
  const model = resolution.definition;
  if (!model) {
    const close = resolution.suggestions.slice(0, 5);
    throw new InputError(
      `Unknown model ${endpointId}${resolution.warnings.length ? ` (${resolution.warnings.join('; ')})` : ''}.${close.length ? ` Did you mean ${close.join(', ')}?` : ''} Find models with search_models.`,
      [{ path: ['endpoint_id'], message: 'unknown model', kind: 'reference' }],
      { code: 'MODEL_UNKNOWN', details: { suggestions: close } },
    );
  }
  const entries = Object.entries(model.input);
  const required = entries.filter(([, spec]) => spec.required).map(([name]) => name);
  const fileFields = entries
    .filter(([, spec]) => JSON.stringify(spec).includes('"type":"file"'))
    .map(([name]) => name);
  const source = resolution.source === 'none' ? 'catalogue' : resolution.source;
  return {
    structured: {
      endpointId: model.endpointId,
      name: model.name,
      category: model.category,
      description: model.description,
      source,
      inputSchema: ctx.registry.jsonSchema(endpointId),
      required,
      fileFields,
      ...(model.example ? { example: toPlainJson(model.example) } : {}),
      ...(resolution.deprecated ? { deprecated: true } : {}),
      ...(resolution.warnings.length ? { warnings: [...resolution.warnings] } : {}),
    },
    summary: `${model.endpointId} — ${model.name} (${model.category}). Required: ${required.join(', ') || 'nothing'}${fileFields.length ? `; file fields: ${fileFields.join(', ')}` : ''}.`,
  };
}

async function estimateCost(
  ctx: McpContext,
  args: ArgsOf<'estimate_cost'>,
  call: ToolCall,
): Promise<ToolOutcome> {
  const endpointId = endpointIdOf(args.endpoint_id);
  const input = args.input ?? {};
  const resolution = await ctx.registry.resolve(endpointId, { signal: call.signal });
  const notes = [...resolution.warnings];
  let issues: string[] | undefined;
  if (args.input) {
    const report = await ctx.registry.validate(endpointId, input);
    if (!report.ok) {
      issues = report.issues.map(
        (issue) =>
          `${issue.path.join('.') || '(input)'}: ${issue.message}${issue.hint ? ` (${issue.hint})` : ''}`,
      );
    }
  }
  const result = ctx.estimator
    ? await ctx.estimator.estimate({
        endpointId,
        input,
        ...(resolution.definition ? { definition: resolution.definition } : {}),
        signal: call.signal,
      })
    : ({ estimate: null, reason: 'this server has no cost estimator' } as const);
  notes.push(...(result.notes ?? []));
  const estimate = result.estimate;
  const inputValid = args.input ? issues === undefined : undefined;
  return {
    structured: {
      endpointId,
      currency: 'USD',
      ...(estimate
        ? {
            estimate: estimate.usd,
            basis: estimate.basis,
            method: estimate.method,
            units: estimate.units,
            unitPrice: { unitPrice: estimate.unitPrice, unit: estimate.unit, currency: 'USD' },
            assumptions: [...estimate.assumptions],
          }
        : { basis: 'none', reason: result.reason }),
      ...(inputValid === undefined ? {} : { inputValid }),
      ...(issues ? { issues } : {}),
      notes,
    },
    summary: [
      estimate
        ? `About ${estimate.usd} USD (${estimate.basis}${estimate.method === 'history' ? "; fal's average cost per call, not measured from this input" : ''}).`
        : `No estimate for ${endpointId}: ${result.reason}.`,
      estimate?.assumptions.length ? `Assumed: ${estimate.assumptions.join('; ')}.` : undefined,
      inputValid === false ? `The input is invalid: ${issues?.join('; ')}` : undefined,
    ]
      .filter(Boolean)
      .join(' '),
  };
}

// ── jobs ───────────────────────────────────────────────────────────────────

/** A generate call submitted: the job, where its files go, and when the call started. */
export interface SubmittedGenerate {
  readonly job: Job & { readonly warnings: readonly string[] };
  readonly dir: string;
  readonly started: number;
  readonly waitMs: number;
}

/**
 * The first half of generate: arguments checked, local files confined, then the lifecycle's
 * submit (validated before anything is paid for, recorded before it returns) and a
 * background wait that records the outcome and saves the files. MCP tasks stop here.
 */
export async function submitGenerate(
  ctx: McpContext,
  rawArgs: unknown,
  call: ToolCall,
): Promise<SubmittedGenerate> {
  const started = Date.now();
  const args = parseArgs('generate', rawArgs);
  const endpointId = endpointIdOf(args.endpoint_id);
  const dir = await confinedDir(ctx.outputDir, args.dir);
  // Preparing (definition, validation, estimate, uploads) is bounded too: past the server's
  // longest wait it stops before the POST, and nothing is submitted. A POST on its way is
  // never stopped (core keeps the paid id).
  const prepared = AbortSignal.timeout(ctx.maxWaitMs);
  const signal = AbortSignal.any([call.signal, prepared]);
  let job: Awaited<ReturnType<McpContext['falai']['submit']>>;
  try {
    // The definition first, so file fields of catalogue models are known for the path check:
    // when it cannot be had, nothing is sent (an unknown file field would go unchecked).
    await ctx.registry.resolve(endpointId, { signal });
    const input = await confineInputFiles(ctx.registry, ctx.inputDirs, endpointId, args.input);
    job = await ctx.falai.submit(endpointId, input, {
      signal,
      maxCostUsd: args.max_cost_usd,
      onProgress: (event) => {
        if (event.phase === 'upload') call.progress?.(`uploading ${event.field}`);
      },
    });
  } catch (error) {
    if (prepared.aborted && !call.signal.aborted && isStopped(error)) {
      throw new FalaiError(
        'TIMEOUT',
        `Preparing the job (validation, cost estimate, uploads) took over ${Math.round(ctx.maxWaitMs / 1000)} s, so nothing was submitted. Try again; pass large files as https:// URLs instead of local paths.`,
        { cause: error },
      );
    }
    throw error;
  }
  call.progress?.(`submitted ${job.requestId}`);
  void ctx.follow(job, dir);
  return { job, dir, started, waitMs: ctx.waitBound(args.wait_seconds) };
}

async function generate(ctx: McpContext, rawArgs: unknown, call: ToolCall): Promise<ToolOutcome> {
  const { job, dir, started, waitMs } = await submitGenerate(ctx, rawArgs, call);
  const outcome = await ctx.waitFor(job, waitMs - (Date.now() - started), call.signal);
  return jobOutcome(ctx, job, outcome, {
    notes: job.warnings.map((warning) => `Warning: ${warning}`),
    waitedMs: Date.now() - started,
    inline: true,
    dir,
    saveWithinMs: ctx.maxWaitMs - (Date.now() - started),
  });
}

/**
 * The job an agent named: checked id, found in the store (or at fal with its endpoint), with
 * the record the store lookup found (none read when the agent named the endpoint).
 */
async function jobOf(
  ctx: McpContext,
  args: { request_id: string; endpoint_id?: string | undefined },
  command: string,
): Promise<{ job: Job; record?: PendingRecord }> {
  const requestId = requestIdOf(args.request_id);
  if (args.endpoint_id !== undefined) {
    return { job: await ctx.falai.job(requestId, { endpointId: endpointIdOf(args.endpoint_id) }) };
  }
  const { record, location } = await ctx.falai.withStore(async (store) => ({
    record: await findRecord(store, requestId, command),
    location: store.location,
  }));
  if (!record) {
    throw new InputError(
      `Request ${requestId} is not in falai's store (${location}). Check the id (list_jobs shows the jobs in the store), or pass its endpoint_id too if it was submitted elsewhere.`,
      [{ path: ['request_id'], message: 'unknown request id', kind: 'reference' }],
    );
  }
  return { job: await ctx.falai.job(record.requestId), record };
}

/**
 * What a job's tool call returns once its wait is over: the finished job with its files (and
 * images inline), its failure as a tool error, or the pending job with its id, status, ETA
 * and how to check again.
 */
export async function jobOutcome(
  ctx: McpContext,
  job: Job,
  outcome: FollowOutcome | undefined,
  options: {
    notes?: readonly string[];
    waitedMs?: number;
    inline: boolean;
    dir?: string;
    /** How long saving missing files may take here. @default the server's longest wait */
    saveWithinMs?: number;
    /** The record as the caller just read it (nothing changed it since): not read again. */
    record?: PendingRecord;
  },
): Promise<ToolOutcome> {
  let record = options.record ?? (await job.record());
  if (!record) return unrecordedOutcome(ctx, job, options);
  const notes = [...(options.notes ?? [])];
  let files = await savedFiles(record);
  if (record.status === 'completed' && !allSaved(record, files) && (await expectsFiles(record))) {
    // The background wait saves them: join it (or start it), bounded like every call.
    const saved =
      outcome ?? (await ctx.waitFor(job, Math.max(0, options.saveWithinMs ?? ctx.maxWaitMs)));
    if (saved === undefined)
      notes.push(
        `The files are still being saved; call get_job_result with {"request_id": "${record.requestId}"} again in a moment.`,
      );
    else if (saved.kind === 'error') notes.push(`Saving the files failed: ${saved.error.message}`);
    const after = await job.record();
    if (after) {
      record = after;
      files = await savedFiles(after);
    }
  }
  const view = await ctx.view(record, { notes, files });
  const images =
    options.inline && view.files
      ? await inlineImages(
          view.files.map((file) => ({ ...file, path: file.path })),
          { maxBytes: ctx.inlineImageMaxBytes, maxImages: MAX_INLINE_IMAGES },
        )
      : { images: [], notes: [] };
  const finalView: JobView = images.notes.length
    ? { ...view, notes: [...(view.notes ?? []), ...images.notes] }
    : view;
  return {
    structured: finalView as unknown as Record<string, unknown>,
    summary: summaryOf(finalView, options.waitedMs),
    images: images.images,
    isError: ['failed', 'cancelled', 'expired'].includes(record.status),
  };
}

/** A request falai's store does not hold (named with its endpoint): fal's word only. */
async function unrecordedOutcome(
  ctx: McpContext,
  job: Job,
  options: { inline: boolean; dir?: string },
): Promise<ToolOutcome> {
  const report = await job.status();
  let files: { path: string; url: string; mime?: string; size?: number }[] = [];
  if (report.status === 'completed') {
    files = (await job.download({ dir: options.dir ?? ctx.outputDir })).map((file) => ({
      path: file.path,
      url: file.url,
      ...(file.mime ? { mime: file.mime } : {}),
      ...(file.size === undefined ? {} : { size: file.size }),
    }));
  }
  const done = TERMINAL_STATUSES.includes(report.status);
  const view: JobView = {
    requestId: job.requestId,
    endpointId: job.endpointId,
    status: report.status,
    done,
    ...(report.queuePosition === undefined ? {} : { queuePosition: report.queuePosition }),
    ...(files.length ? { files } : {}),
    ...(report.error ? { error: { code: report.error.code, message: report.error.message } } : {}),
    ...(done
      ? {}
      : {
          next: `Not finished yet; check again with get_job_status {"request_id": "${job.requestId}", "endpoint_id": "${job.endpointId}"}.`,
        }),
    notes: ["This request is not in falai's store: only fal's answer is shown."],
  };
  const images = options.inline
    ? await inlineImages(files, { maxBytes: ctx.inlineImageMaxBytes, maxImages: MAX_INLINE_IMAGES })
    : { images: [], notes: [] };
  return {
    structured: view as unknown as Record<string, unknown>,
    summary: summaryOf(view),
    images: images.images,
    isError: ['failed', 'cancelled', 'expired'].includes(report.status),
  };
}

/** The saved files of a finished record that are still on disk (none while it runs). */
function savedFiles(record: PendingRecord): Promise<SavedFile[]> {
  return ACTIVE_STATUSES.includes(record.status)
    ? Promise.resolve([])
    : existingFiles(record.outputs ?? []);
}

/** True when the record names saved files and every one of them is still on disk. */
function allSaved(record: PendingRecord, files: readonly SavedFile[]): boolean {
  const outputs = record.outputs?.length ?? 0;
  return outputs > 0 && files.length === outputs;
}

/**
 * True when a completed record's output has files to save: files core's `findOutputFiles`
 * finds, inline outputs the record kept only as digests, or a stored result that cannot stand
 * in for fal's (`storedResultHasFiles`: fal's copy is fetched to save them).
 */
async function expectsFiles(record: PendingRecord): Promise<boolean> {
  const result = record.result;
  if (result === undefined) return false;
  if (findOutputFiles(result).length > 0 || omittedDataUris(result).length > 0) return true;
  return !(await storedResultHasFiles(result));
}

function summaryOf(view: JobView, waitedMs?: number): string {
  const id = view.requestId;
  switch (view.status) {
    case 'completed': {
      const files = view.files?.map((file) => `- ${file.path}`) ?? [];
      return files.length
        ? `Job ${id} (${view.endpointId}) completed. Files:\n${files.join('\n')}`
        : `Job ${id} (${view.endpointId}) completed. ${view.next ?? ''}`.trim();
    }
    case 'failed':
    case 'cancelled':
    case 'expired':
      return `Job ${id} (${view.endpointId}) ${view.status}: ${view.error?.message ?? 'no reason given'}`;
    default: {
      const waited = waitedMs === undefined ? '' : ` after ${Math.round(waitedMs / 1000)} s`;
      const where =
        view.status === 'queued' && view.queuePosition !== undefined
          ? `queued (position ${view.queuePosition})`
          : view.status;
      const eta = view.eta ? ` ETA about ${view.eta.seconds} s (${view.eta.at}).` : '';
      return `Job ${id} (${view.endpointId}) is still ${where}${waited}.${eta} ${view.next ?? ''}`.trim();
    }
  }
}

async function jobStatus(
  ctx: McpContext,
  args: ArgsOf<'get_job_status'>,
  call: ToolCall,
): Promise<ToolOutcome> {
  const found = await jobOf(ctx, args, 'status');
  const job = found.job;
  const before = found.record ?? (await job.record());
  if (!before) return unrecordedOutcome(ctx, job, { inline: false });
  if (!ACTIVE_STATUSES.includes(before.status)) {
    return jobOutcome(ctx, job, undefined, { inline: false, saveWithinMs: 0, record: before });
  }
  let outcome: FollowOutcome | undefined;
  const report = await job.status();
  // fal says it ended: let the lifecycle record how (and save the files), briefly.
  if (!ACTIVE_STATUSES.includes(report.status))
    outcome = await ctx.waitFor(job, SETTLE_MS, call.signal);
  // The status check recorded what fal said: the record is read again.
  return jobOutcome(ctx, job, outcome, { inline: false, saveWithinMs: 0 });
}

async function jobResult(
  ctx: McpContext,
  args: ArgsOf<'get_job_result'>,
  call: ToolCall,
): Promise<ToolOutcome> {
  const started = Date.now();
  const found = await jobOf(ctx, args, 'result');
  const job = found.job;
  const inline = args.inline_images ?? true;
  const before = found.record ?? (await job.record());
  if (!before) return unrecordedOutcome(ctx, job, { inline });
  const active = ACTIVE_STATUSES.includes(before.status);
  let outcome: FollowOutcome | undefined;
  if (active) {
    const bound = ctx.waitBound(args.wait_seconds, 0);
    if (bound > 0) outcome = await ctx.waitFor(job, bound, call.signal);
    else {
      const report = await job.status();
      if (!ACTIVE_STATUSES.includes(report.status))
        outcome = await ctx.waitFor(job, SETTLE_MS, call.signal);
    }
  }
  return jobOutcome(ctx, job, outcome, {
    inline,
    waitedMs: Date.now() - started,
    saveWithinMs: ctx.maxWaitMs - (Date.now() - started),
    // A job that was still running has been checked or waited for since: read it again.
    ...(active ? {} : { record: before }),
  });
}

async function downloadOutputs(
  ctx: McpContext,
  args: ArgsOf<'download_job_outputs'>,
): Promise<ToolOutcome> {
  // The arguments first: a folder leading out of the output folder is refused before the job
  // is looked up (no store read, no call to fal).
  requestIdOf(args.request_id);
  if (args.endpoint_id !== undefined) endpointIdOf(args.endpoint_id);
  const dir = await confinedDir(ctx.outputDir, args.dir);
  const { job } = await jobOf(ctx, args, 'download');
  const saved = await job.download({ dir, force: args.force ?? false });
  const files = saved.map((file) => ({
    path: file.path,
    url: file.url,
    ...(file.mime ? { mime: file.mime } : {}),
    ...(file.size === undefined ? {} : { size: file.size }),
  }));
  return {
    structured: { requestId: job.requestId, endpointId: job.endpointId, files },
    summary: files.length
      ? `Saved ${files.length} file(s) of ${job.requestId}:\n${files.map((file) => `- ${file.path}`).join('\n')}`
      : `Job ${job.requestId} has no output files.`,
  };
}

async function listJobs(ctx: McpContext, args: ArgsOf<'list_jobs'>): Promise<ToolOutcome> {
  const which = args.status ?? 'all';
  const statuses: readonly RequestStatus[] | undefined =
    which === 'pending' ? ACTIVE_STATUSES : which === 'done' ? TERMINAL_STATUSES : undefined;
  const endpointId = args.endpoint_id === undefined ? undefined : endpointIdOf(args.endpoint_id);
  // One read of the store: the pending count is over every job, the list over the filtered.
  const { all, location } = await ctx.falai.withStore(async (store) => ({
    all: await store.list(),
    location: store.location,
  }));
  const pending = all.filter((record) => ACTIVE_STATUSES.includes(record.status)).length;
  const records = all.filter(
    (record) =>
      (!statuses || statuses.includes(record.status)) &&
      (!endpointId || record.endpointId === endpointId),
  );
  const limit = args.limit ?? 20;
  const newest = [...records]
    .sort((a, b) => b.submittedAt.localeCompare(a.submittedAt))
    .slice(0, limit);
  const jobs = newest.map((record) => {
    const prompt = promptOf(record);
    return {
      requestId: record.requestId,
      endpointId: record.endpointId,
      status: record.status,
      submittedAt: record.submittedAt,
      ...(record.completedAt ? { completedAt: record.completedAt } : {}),
      ...(record.queuePosition === undefined || !ACTIVE_STATUSES.includes(record.status)
        ? {}
        : { queuePosition: record.queuePosition }),
      ...(prompt ? { prompt: prompt.length > 120 ? `${prompt.slice(0, 119)}…` : prompt } : {}),
      ...(record.outputs?.length ? { files: record.outputs.map((file) => file.path) } : {}),
      ...(record.error ? { error: record.error.message } : {}),
    };
  });
  const lines = jobs.map(
    (job) => `- ${job.requestId}  ${job.status}  ${job.endpointId}  ${job.submittedAt}`,
  );
  return {
    structured: { jobs, pending, total: records.length, store: location },
    summary: `${records.length} job(s)${records.length > jobs.length ? `, newest ${jobs.length} shown` : ''}; ${pending} pending.${lines.length ? `\n${lines.join('\n')}` : ''}`,
  };
}

async function cancelJob(ctx: McpContext, args: ArgsOf<'cancel_job'>): Promise<ToolOutcome> {
  const { job } = await jobOf(ctx, args, 'cancel');
  const result = await job.cancel();
  const status = result.status;
  const note =
    status === 'cancelled'
      ? 'Cancelled: fal removed the job and will not bill it.'
      : result.outcome === 'already-completed' || (status && !ACTIVE_STATUSES.includes(status))
        ? `The job had already ended (${status ?? 'completed'}); nothing was cancelled.`
        : 'Cancellation asked for: the job was already running, and fal may still finish (and bill) it. get_job_status shows how it ends.';
  return {
    structured: {
      requestId: job.requestId,
      endpointId: job.endpointId,
      outcome: result.outcome,
      ...(status ? { status } : {}),
      ...(result.cancelRequestedAt ? { cancelRequestedAt: result.cancelRequestedAt } : {}),
      note,
    },
    summary: `${job.requestId}: ${note}`,
  };
}
