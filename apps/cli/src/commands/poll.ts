import type { PollOutput } from '@falai/core';
import { AbortedError, InputError, pollRequests } from '@falai/core';
import type { PollEvent, PollItem } from '@falai/core/internal';
import { findOutputFiles, POLL_CONCURRENCY } from '@falai/core/internal';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { concurrencyFlag, forceFlag, outFlag, timeoutFlag } from '../flags.js';
import { describeOutputs } from '../output.js';
import { checkNamePattern, isFileOut, nameFlag, outputTarget } from '../output-names.js';
import { seedFileHint } from '../store.js';

/** Seed command: check every pending request once (or until none is left with --watch). */
export default class Poll extends BaseCommand<typeof Poll> {
  static override summary = 'Check every pending request and record the finished ones.';
  static override description =
    'Checks all queued and running requests in the store with a bounded pool, fetches the results of finished ones and records them (or their errors), and prints what completed. Each request is leased while checked, so several pollers (cron, heartbeat, other machines sharing a Redis store) never finalise one twice. Network errors leave a request pending for the next pass.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --watch --download --out ./renders',
    '<%= config.bin %> <%= command.id %> --json --concurrency 32',
  ];
  static override flags = {
    watch: Flags.boolean({ char: 'w', description: 'Keep polling until nothing is pending.' }),
    interval: timeoutFlag('Pause between passes with --watch (default 2s).'),
    timeout: timeoutFlag('With --watch, stop after this long even if requests are pending.'),
    download: Flags.boolean({ char: 'd', description: 'Save the outputs of completed requests.' }),
    out: outFlag(),
    name: nameFlag(),
    force: forceFlag(),
    concurrency: concurrencyFlag(POLL_CONCURRENCY),
  };

  async run(): Promise<PollOutput> {
    const [store, client, settings] = await Promise.all([
      this.store(),
      this.client(),
      this.settings(),
    ]);
    // Naming problems are found before any request is finalised, not after the first one.
    if (this.flags.name !== undefined) checkNamePattern(this.flags.name);
    if (this.flags.out !== undefined && isFileOut(this.flags.out)) {
      throw new InputError(
        `poll saves the outputs of many requests, so --out must be a folder, not ${this.flags.out}; name the files with --name, e.g. --name "{endpoint}-{n}".`,
        [{ path: ['out'], message: 'a file name where a folder is needed', kind: 'output-name' }],
      );
    }
    // Ctrl-C: checks not yet started are left for the next run; those in flight finish and
    // are recorded; then the summary and the resume hint. A second Ctrl-C exits at once.
    const stop = new AbortController();
    const onSigint = () => {
      if (stop.signal.aborted) process.exit(130);
      stop.abort();
    };
    // `on`, not `once` (see run): signal-exit re-raises a signal it sees no other listener for.
    process.on('SIGINT', onSigint);
    let summary: Awaited<ReturnType<typeof pollRequests>>;
    try {
      summary = await pollRequests({
        store,
        client,
        concurrency: this.flags.concurrency,
        watch: this.flags.watch,
        intervalMs: this.flags.interval,
        timeoutMs: this.flags.timeout,
        signal: stop.signal,
        ...(this.flags.download
          ? {
              download: {
                target: (record) =>
                  outputTarget({
                    out: this.flags.out,
                    name: this.flags.name,
                    defaultDir: settings.outputDir,
                    requestId: record.requestId,
                    endpointId: record.endpointId,
                  }),
                force: this.flags.force,
                settings,
              },
            }
          : {}),
        onEvent: (event) => this.render(event),
      });
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
    const { completed, pending, unchecked } = summary;
    const cannot =
      unchecked === 0
        ? ''
        : ` (${unchecked} cannot be checked until its endpoint is named, see above)`;
    if (completed.length === 0) {
      this.log(
        pending === 0
          ? 'No pending requests.'
          : `Nothing finished yet; ${pending} still pending${cannot}.`,
      );
    } else {
      this.log(`${completed.length} finished, ${pending} still pending${cannot}.`);
    }
    const hint = await seedFileHint(settings);
    if (hint) this.note(hint);
    if (summary.interrupted) {
      throw new AbortedError(
        'ABORTED',
        `Interrupted; ${pending} request${pending === 1 ? '' : 's'} still pending (recorded in ${store.location}). Resume with: falai poll${this.flags.watch ? ' --watch' : ''}${this.flags.download ? ' --download' : ''}`,
        { details: { pending, completed: completed.length } },
      );
    }
    return {
      completed,
      count: summary.count,
      pending,
      errors: summary.errors,
      skipped: summary.skipped,
      passes: summary.passes,
    };
  }

  /** One line per event: finished requests on stdout, problems as notes. */
  private render(event: PollEvent): void {
    switch (event.kind) {
      case 'finished':
        this.report(event.item, event.item.result);
        return;
      case 'error':
        this.note(`! ${event.error.requestId}: ${event.error.message} (left pending)`);
        return;
      case 'unknown-endpoint':
        this.note(`! ${event.error.requestId}: ${event.error.message}`);
        return;
      case 'store-retry':
        this.note(`! ${event.message} (retrying)`);
        return;
    }
  }

  private report(item: PollItem, output: unknown): void {
    if (item.status === 'completed') {
      const lines = describeOutputs(
        item.outputs ?? [],
        findOutputFiles(output).map((ref) => ref.url),
      );
      this.log(`✓ ${item.requestId}  ${item.endpointId}  completed`);
      for (const line of lines) this.log(`    ${line}`);
    } else {
      this.log(
        `✗ ${item.requestId}  ${item.endpointId}  ${item.status}: ${item.error?.message ?? ''}`,
      );
    }
  }
}
