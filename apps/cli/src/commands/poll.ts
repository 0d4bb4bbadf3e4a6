import type { FalaiError, PendingRecord, PollOutput } from '@falai/core';
import { ACTIVE_STATUSES, toFalaiError } from '@falai/core';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { downloadOutputs, findOutputFiles } from '../download.js';
import { concurrencyFlag, forceFlag, outFlag, timeoutFlag } from '../flags.js';
import { LEASE_TTL_MS, leaseOwner } from '../lease.js';
import { describeOutputs } from '../output.js';
import { finalise, recordError } from '../requests.js';

type PollItem = PollOutput['completed'][number];

/**
 * How many requests one poll pass checks at once. A check is two cheap GETs (status, then the
 * result once finished) and fal's concurrency limits apply to running jobs, not to status
 * checks, so 16 in flight is light for fal and for the stores (a pass over 1,000 finished
 * requests is ~14x faster than one at a time, against the >= 8x target a pool of 8 could not
 * reach). If fal does push back, core's retry policy honours 429 and `Retry-After`.
 * `--concurrency` overrides it (1 to 256).
 */
export const POLL_CONCURRENCY = 16;

/** Errors that no retry fixes: stop the whole pass instead of marking every record. */
const FATAL = new Set(['AUTH_MISSING', 'AUTH_INVALID', 'AUTH_REJECTED', 'CONFIG_INVALID']);

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
    force: forceFlag(),
    concurrency: concurrencyFlag(POLL_CONCURRENCY),
  };

  async run(): Promise<PollOutput> {
    const [store, client, settings] = await Promise.all([
      this.store(),
      this.client(),
      this.settings(),
    ]);
    const owner = leaseOwner();
    const { default: pLimit } = await import('p-limit');
    const limit = pLimit(this.flags.concurrency);
    const completed: PollItem[] = [];
    const errors: PollOutput['errors'] = [];
    let skipped = 0;
    let passes = 0;
    let pending = 0;
    const started = Date.now();
    const interval = this.flags.interval ?? 2000;
    const outDir = this.flags.out ?? settings.outputDir;

    const checkOne = async (record: PendingRecord): Promise<'pending' | 'done' | 'skipped'> => {
      const claim = await store.claim(record.requestId, owner, LEASE_TTL_MS);
      if (claim.kind === 'held') return 'skipped';
      if (claim.kind === 'missing') return 'done';
      const current = claim.record;
      if (!ACTIVE_STATUSES.includes(current.status)) {
        await store.release(current.requestId, owner);
        return 'done';
      }
      try {
        const status = await client.status(current.endpointId, current.requestId);
        if (status.state !== 'completed') {
          await store.update(
            current.requestId,
            {
              status: status.state,
              queuePosition: status.queuePosition ?? null,
              attempts: { ...current.attempts, poll: current.attempts.poll + 1, errors: 0 },
            },
            { status: ACTIVE_STATUSES, leaseOwner: owner },
          );
          return 'pending';
        }
        const outcome = await client.result(current.endpointId, current.requestId);
        const updated = await finalise(store, current.requestId, outcome, owner);
        if (updated.kind !== 'updated') return 'skipped';
        const item: PollItem = {
          requestId: current.requestId,
          endpointId: current.endpointId,
          status: outcome.state,
          ...(outcome.state === 'completed' ? { result: outcome.output } : {}),
          ...(outcome.state === 'failed' ? { error: recordError(outcome.error) } : {}),
        };
        let final = item;
        if (outcome.state === 'completed' && this.flags.download) {
          const outputs = await downloadOutputs({
            requestId: current.requestId,
            result: outcome.output,
            outDir,
            force: this.flags.force,
          });
          await store.update(current.requestId, { outputs });
          final = { ...item, outputs };
        }
        completed.push(final);
        this.report(final, outcome.state === 'completed' ? outcome.output : undefined);
        return 'done';
      } catch (error) {
        const falai = toFalaiError(error);
        if (FATAL.has(falai.code) || falai.code === 'OUTPUT_EXISTS') throw falai;
        errors.push({ requestId: current.requestId, code: falai.code, message: falai.message });
        this.note(`! ${current.requestId}: ${falai.message} (left pending)`);
        await store
          .update(
            current.requestId,
            {
              attempts: {
                ...current.attempts,
                poll: current.attempts.poll + 1,
                errors: current.attempts.errors + 1,
              },
              error: recordError(falai as FalaiError),
            },
            { status: ACTIVE_STATUSES, leaseOwner: owner },
          )
          .catch(() => undefined);
        return 'pending';
      } finally {
        await store.release(current.requestId, owner).catch(() => false);
      }
    };

    for (;;) {
      passes++;
      const active = await store.list({ status: ACTIVE_STATUSES });
      const results = await Promise.all(active.map((record) => limit(() => checkOne(record))));
      pending = results.filter((state) => state !== 'done').length;
      skipped = results.filter((state) => state === 'skipped').length;
      if (!this.flags.watch || pending === 0) break;
      if (this.flags.timeout !== undefined && Date.now() - started >= this.flags.timeout) break;
      await new Promise((resolve) => setTimeout(resolve, interval));
    }

    if (completed.length === 0) {
      this.log(
        pending === 0 ? 'No pending requests.' : `Nothing finished yet; ${pending} still pending.`,
      );
    } else {
      this.log(`${completed.length} finished, ${pending} still pending.`);
    }
    return { completed, count: completed.length, pending, errors, skipped, passes };
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
