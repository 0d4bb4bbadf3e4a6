import { Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { parseDuration } from '../../flags.js';
import { boundHeap } from '../../heap.js';

/** `falai batch worker`: run rows of the batches queued on a Redis store, until stopped. */
export default class BatchWorker extends BaseCommand<typeof BatchWorker> {
  static override summary = 'Work on batches queued on a Redis store, on any number of hosts.';
  static override description =
    "Takes rows of every batch enqueued with `falai batch run --distributed` on the same Redis store and runs them through falai's lifecycle: submit (each row exactly once, whichever worker dies), wait, outputs, manifest entry. The queue's global concurrency (the run's --concurrency) bounds the rows in flight at fal across all workers; --concurrency here bounds this worker. A worker that stops answering (killed, frozen, cut off) loses its rows to the others after --stall-timeout. Runs until SIGINT/SIGTERM, which hands the rows in flight back to the queue (a submit already on its way is recorded first): nothing is lost.";
  static override examples = [
    '<%= config.bin %> <%= command.id %> --store redis://queue.internal:6379/0',
    'FALAI_STORE=redis://queue.internal:6379/0 <%= config.bin %> <%= command.id %> --concurrency 16 --out ./shots',
  ];
  static override flags = {
    concurrency: Flags.integer({
      min: 1,
      max: 1000,
      default: 8,
      description: 'Rows this worker runs at once (the queue’s global limit bounds all workers).',
    }),
    out: Flags.string({
      char: 'o',
      description: "Save outputs here instead of the batch's own --out folder.",
    }),
    'stall-timeout': Flags.string({
      default: '30s',
      description:
        'How long a worker that stopped answering keeps its rows before another takes them (e.g. 30s).',
    }),
    'lost-submit-grace': Flags.string({
      default: '2m',
      description:
        "How long fal's request history may take to show a submit whose worker died right after sending it, before the row counts as never sent.",
    }),
  };

  async run(): Promise<{ finished: number; store: string }> {
    const core = await import('@falai/core');
    const stallTimeoutMs = parseDuration(this.flags['stall-timeout']);
    const lostSubmitGraceMs = parseDuration(this.flags['lost-submit-grace']);
    const [{ queueConnection, startCliWorker }, { submitCost }, settings, store] =
      await Promise.all([
        import('../../batch-distributed.js'),
        import('../../cost.js'),
        this.settings(),
        this.store(),
      ]);
    const connection = await queueConnection(settings);
    const key = () => this.key();
    const userAgent = `${this.config.name}/${this.config.version}`;
    const { cost } = await submitCost({
      settings,
      cacheDir: this.config.cacheDir,
      key,
      userAgent,
      store,
      note: () => {},
    });
    let worker: Awaited<ReturnType<typeof startCliWorker>> | undefined;
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (!stopping) {
        stopping = true;
        this.note(`${signal}: handing the rows in flight back to the queue…`);
      }
      void worker?.close();
    };
    worker = await startCliWorker({
      connection,
      store,
      client: await this.client(),
      registry: await this.registry(),
      settings,
      cost,
      key,
      userAgent,
      concurrency: this.flags.concurrency,
      ...(this.flags.out ? { outDir: this.flags.out } : {}),
      stallTimeoutMs,
      lostSubmitGraceMs,
      onRow: ({ batch, entry }) => {
        if (this.flags.quiet || this.jsonEnabled()) return;
        process.stderr.write(
          `${JSON.stringify({ type: 'row', batch, row: entry.row, status: entry.status, requestId: entry.requestId })}\n`,
        );
      },
      onError: (error) => this.note(`batch queue: ${core.toFalaiError(error).message}`),
      // Ctrl-C that a row's submit holds back until recorded: stop taking rows now.
      onInterrupt: (signal) => stop(signal),
    });
    this.note(
      `Working on batches queued at ${store.location} (${this.flags.concurrency} rows at once here); stop with Ctrl-C.`,
    );
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    // Stopped while it started (a row's submit held the signal back): close now.
    if (stopping) void worker.close();
    // A worker runs rows until stopped: keep the heap near what is live (see heap.ts).
    const unboundHeap = await boundHeap();
    try {
      await worker.closed;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      unboundHeap();
    }
    this.log(`Stopped; ${worker.finished} row(s) finished by this worker.`);
    return { finished: worker.finished, store: store.location };
  }
}
