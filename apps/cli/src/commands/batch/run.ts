import { setMaxListeners } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  BatchProgress,
  FalaiSettings,
  PendingStore,
  BatchPlan as Plan,
  SubmitCostOptions,
} from '@falai/core';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { parseDuration } from '../../flags.js';
import { boundHeap } from '../../heap.js';

/** `falai batch run`: run a plan (or rows) through the lifecycle, resumably. */
export default class BatchRun extends BaseCommand<typeof BatchRun> {
  static override summary = 'Run a batch: bounded concurrency, a cost cap, outputs and a manifest.';
  static override description =
    'Runs a plan from `falai batch plan` (or a rows file with --model). At most --concurrency rows are in flight at fal (halved on a 429). Each row is keyed by a hash of endpoint + input and recorded in the store when submitted, so running the same batch again submits nothing already submitted: it waits for pending rows, skips done ones and retries only failures worth retrying. Outputs are saved as rows finish; a JSONL manifest (row, request id, status, outputs, cost, error) is written as it goes. Progress: a live line on a terminal, NDJSON events on stderr otherwise.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> rows.plan.json --out ./shots --name "{row.id}-{index}.{ext}"',
    '<%= config.bin %> <%= command.id %> rows.csv --model fal-ai/nano-banana-pro --concurrency 16',
  ];
  static override args = {
    plan: Args.string({ required: true, description: 'A plan file, or a .jsonl/.csv rows file.' }),
  };
  static override flags = {
    model: Flags.string({
      char: 'm',
      description: 'The endpoint id (when given rows, not a plan).',
    }),
    template: Flags.string({ description: 'An input JSON file with {{column}} placeholders.' }),
    concurrency: Flags.integer({
      min: 1,
      max: 1000,
      description:
        'Rows in flight at fal (default 8). With --distributed: the limit across all workers, kept as it is when not given (8 for a queue that has none).',
    }),
    'max-cost': Flags.string({
      description:
        "Hard cap on the batch in US dollars: each row's estimate is reserved before its submit; submitting stops when the next row would pass it (the rest: over-budget).",
    }),
    out: Flags.string({ char: 'o', description: 'Folder for the outputs (none: not downloaded).' }),
    name: Flags.string({ description: 'Output names, e.g. "{row.id}-{index}.{ext}".' }),
    manifest: Flags.string({
      description: 'The results manifest (default <out>/manifest.jsonl or batch-<hash>.jsonl).',
    }),
    distributed: Flags.boolean({
      description:
        'Run on many machines: enqueue the rows on the Redis store (--store redis://…) for `falai batch worker` on any host; --concurrency is then the limit for all workers together. Progress is followed here until the batch completes.',
    }),
    work: Flags.boolean({
      default: true,
      allowNo: true,
      description:
        'With --distributed: also work on rows here (--no-work: only enqueue and follow).',
    }),
    'lost-submit-grace': Flags.string({
      default: '2m',
      description:
        "A row whose submit's answer was lost is looked for in fal's request history: how long the history may take to show it before the row counts as never sent (and is submitted again).",
    }),
    detach: Flags.boolean({
      dependsOn: ['distributed'],
      description:
        'With --distributed: enqueue and return at once (follow with falai batch status).',
    }),
  };

  async run(): Promise<Record<string, unknown>> {
    const core = await import('@falai/core');
    const path = this.args.plan;
    const text = await readFile(path, 'utf8');
    const [{ platformClient, submitCost, usdText }, settings, store] = await Promise.all([
      import('../../cost.js'),
      this.settings(),
      this.store(),
    ]);
    // Core's cost step as a submit sets it up (fal's unit prices, the config's budgets), with
    // no per-row note: stderr carries the progress events.
    const lostSubmitGraceMs = parseDuration(this.flags['lost-submit-grace']);
    const { cost, intents } = await submitCost({
      settings,
      cacheDir: this.config.cacheDir,
      key: () => this.key(),
      userAgent: `${this.config.name}/${this.config.version}`,
      store,
      note: () => {},
    });
    let plan: Plan;
    if (/\.json$/i.test(path)) {
      plan = JSON.parse(text) as Plan;
    } else {
      if (!this.flags.model) {
        throw new core.InputError(
          `${path} is a rows file: pass --model <endpoint> (or plan it first with falai batch plan).`,
          [{ path: ['model'], message: 'missing --model', kind: 'required' }],
        );
      }
      const template = this.flags.template
        ? (JSON.parse(await readFile(this.flags.template, 'utf8')) as Record<string, unknown>)
        : undefined;
      plan = await core.planBatch({
        endpointId: this.flags.model,
        rows: await core.parseBatchRows(text, core.rowFormatOf(path)),
        registry: await this.registry(),
        ...(template ? { template } : {}),
        ...(cost.estimator ? { estimator: cost.estimator } : {}),
        source: path,
        cwd: process.cwd(),
      });
    }
    core.verifyPlan(plan);
    const maxCost =
      this.flags['max-cost'] === undefined ? undefined : Number(this.flags['max-cost']);
    if (maxCost !== undefined && !(Number.isFinite(maxCost) && maxCost >= 0)) {
      throw new core.InputError(
        `--max-cost ${this.flags['max-cost']}: give US dollars, e.g. --max-cost 12.50.`,
        [{ path: ['max-cost'], message: 'not a number', kind: 'type' }],
      );
    }
    if (maxCost !== undefined && plan.cost.usd !== null && plan.cost.usd > maxCost) {
      this.note(
        `The batch is estimated at ${usdText(plan.cost.usd)}, above --max-cost ${usdText(maxCost)}: rows are submitted while the next one fits; the rest are marked over-budget.`,
      );
    }
    const manifestPath =
      this.flags.manifest ??
      (this.flags.out
        ? join(this.flags.out, 'manifest.jsonl')
        : `batch-${plan.hash.slice(0, 12)}.jsonl`);
    const tty = process.stderr.isTTY === true && !this.jsonEnabled();
    const controller = new AbortController();
    // Every row in flight waits on this signal: as many listeners as rows, not a leak.
    setMaxListeners(0, controller.signal);
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // Thousands of short jobs: keep the heap near what is live (see heap.ts).
    const unboundHeap = await boundHeap();
    if (this.flags.distributed) {
      try {
        return await this.runDistributed(plan, {
          settings,
          store,
          cost,
          maxCost,
          manifestPath,
          tty,
          signal: controller.signal,
          stop,
          lostSubmitGraceMs,
        });
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        unboundHeap();
      }
    }
    const onProgress = (event: BatchProgress) => {
      if (this.flags.quiet) return;
      if (tty) {
        if (event.type === 'row') return;
        const eta = event.etaSeconds === undefined ? '' : `, ETA ${event.etaSeconds}s`;
        process.stderr.write(
          `\r${event.done} done / ${event.running} running / ${event.queued} queued / ${event.failed} failed, $${event.spentUsd}, ${event.rate}/s${eta}   ${event.type === 'end' ? '\n' : ''}`,
        );
      } else {
        const { entry, ...rest } = event;
        process.stderr.write(
          `${JSON.stringify(entry ? { ...rest, row: entry.row, status: entry.status } : rest)}\n`,
        );
      }
    };
    let summary: Awaited<ReturnType<typeof core.runBatch>>;
    try {
      summary = await core.runBatch({
        plan,
        store,
        client: await this.client(),
        registry: await this.registry(),
        ...(this.flags.concurrency === undefined ? {} : { concurrency: this.flags.concurrency }),
        ...(maxCost === undefined ? {} : { maxCostUsd: maxCost }),
        ...(cost.estimator ? { estimator: cost.estimator } : {}),
        ...(cost.budgets ? { budgets: cost.budgets } : {}),
        // A submit whose answer was lost: noted before its POST, looked for in fal's history.
        ...(intents ? { intents } : {}),
        platform: await platformClient({
          settings,
          key: () => this.key(),
          userAgent: `${this.config.name}/${this.config.version}`,
        }),
        lostSubmitGraceMs,
        ...(this.flags.out ? { outDir: this.flags.out } : {}),
        settings,
        ...(this.flags.name ? { name: this.flags.name } : {}),
        manifestPath,
        onProgress,
        signal: controller.signal,
        cwd: process.cwd(),
      });
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      unboundHeap();
    }
    const { entries: _entries, ...rest } = summary;
    this.log(
      `batch ${summary.batch.slice(0, 12)}: ${summary.counts.completed}/${summary.total} completed, ${summary.counts.failed} failed, ${summary.counts.unknown} unknown, ${summary.counts['over-budget']} over budget; ${summary.submitted} submitted now; ${usdText(summary.spentUsd)} spent; manifest ${manifestPath}`,
    );
    if (summary.counts.completed < summary.total) process.exitCode = 6;
    return rest;
  }

  /** `--distributed`: enqueue on the store's Redis, work here too (unless --no-work), follow. */
  private async runDistributed(
    plan: Plan,
    state: {
      readonly settings: FalaiSettings;
      readonly store: PendingStore;
      readonly cost: SubmitCostOptions;
      readonly maxCost: number | undefined;
      readonly manifestPath: string;
      readonly tty: boolean;
      readonly signal: AbortSignal;
      /** What Ctrl-C does; also called when a row's submit holds the signal back. */
      readonly stop: () => void;
      readonly lostSubmitGraceMs: number;
    },
  ): Promise<Record<string, unknown>> {
    const [{ runDistributed }, { usdText }] = await Promise.all([
      import('../../batch-distributed.js'),
      import('../../cost.js'),
    ]);
    const started = Date.now();
    const result = await runDistributed({
      plan,
      store: state.store,
      client: await this.client(),
      registry: await this.registry(),
      settings: state.settings,
      cost: state.cost,
      key: () => this.key(),
      userAgent: `${this.config.name}/${this.config.version}`,
      concurrency: this.flags.concurrency,
      ...(state.maxCost === undefined ? {} : { maxCostUsd: state.maxCost }),
      ...(this.flags.out ? { outDir: this.flags.out } : {}),
      ...(this.flags.name ? { name: this.flags.name } : {}),
      manifestPath: state.manifestPath,
      work: this.flags.work,
      detach: this.flags.detach,
      signal: state.signal,
      onInterrupt: state.stop,
      lostSubmitGraceMs: state.lostSubmitGraceMs,
      onProgress: (progress) => {
        if (this.flags.quiet) return;
        const failed = progress.finished - progress.counts.completed + progress.lost;
        const seconds = (Date.now() - started) / 1000;
        const rate = seconds > 0 ? Math.round((progress.finished / seconds) * 100) / 100 : 0;
        const left = progress.total - progress.finished - progress.lost;
        const eta = rate > 0 ? Math.round(left / rate) : undefined;
        if (state.tty) {
          process.stderr.write(
            `\r${progress.counts.completed} done / ${progress.running} running / ${progress.queued} queued / ${failed} failed, $${progress.spentUsd}, ${rate}/s${eta === undefined ? '' : `, ETA ${eta}s`} (all workers)   `,
          );
        } else {
          process.stderr.write(
            `${JSON.stringify({ type: 'progress', distributed: true, total: progress.total, done: progress.counts.completed, failed, running: progress.running, queued: progress.queued, lost: progress.lost, spentUsd: progress.spentUsd, rate, ...(eta === undefined ? {} : { etaSeconds: eta }), ...(progress.globalConcurrency ? { concurrency: progress.globalConcurrency } : {}) })}\n`,
          );
        }
      },
    });
    if (state.tty && !this.flags.quiet) process.stderr.write('\n');
    const short = plan.hash.slice(0, 12);
    if (result.detached) {
      this.log(
        `batch ${short}: ${result.queued} of ${result.total} rows queued for the workers (falai batch worker on any host); follow with falai batch status ${short}.`,
      );
      return { ...result };
    }
    const counts = result.counts;
    this.log(
      `batch ${short}: ${counts?.completed ?? 0}/${result.total} completed, ${counts?.failed ?? 0} failed, ${counts?.unknown ?? 0} unknown, ${counts?.['over-budget'] ?? 0} over budget${result.lost ? `, ${result.lost} lost by workers` : ''}; ${usdText(result.spentUsd ?? 0)} spent; manifest ${state.manifestPath}`,
    );
    if ((counts?.completed ?? 0) < result.total) process.exitCode = 6;
    return { ...result };
  }
}
