import type { FalaiError, PendingRecord, PollOutput } from '@falai/core';
import { AbortedError, ACTIVE_STATUSES, InputError, toFalaiError } from '@falai/core';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { downloadOutputs, findOutputFiles } from '../download.js';
import { concurrencyFlag, forceFlag, outFlag, timeoutFlag } from '../flags.js';
import { LEASE_TTL_MS, leaseOwner } from '../lease.js';
import { describeOutputs } from '../output.js';
import { checkNamePattern, isFileOut, nameFlag, outputTarget } from '../output-names.js';
import { finalise, recordError, UNKNOWN_ENDPOINT } from '../requests.js';
import { seedFileHint } from '../store.js';

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

/** How long `--watch` keeps retrying a store that fails every pass before it gives up. */
const STORE_RETRY_MS = 5 * 60_000;

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
    let storeFailing: { since: number; times: number } | undefined;

    // Requests the seed's file left without an endpoint: nothing to ask fal until it is named.
    const unknownEndpoint = new Set<string>();
    // Ctrl-C: checks not yet started are left for the next run; those in flight finish and
    // are recorded; then the summary and the resume hint. A second Ctrl-C exits at once.
    let interrupted = false;
    let wake: (() => void) | undefined;
    const onSigint = () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      wake?.();
    };
    // `on`, not `once` (see run): signal-exit re-raises a signal it sees no other listener for.
    process.on('SIGINT', onSigint);

    const checkOne = async (
      record: PendingRecord,
    ): Promise<'pending' | 'done' | 'skipped' | 'unknown'> => {
      if (interrupted) return 'pending';
      if (record.endpointId === UNKNOWN_ENDPOINT) {
        if (!unknownEndpoint.has(record.requestId)) {
          unknownEndpoint.add(record.requestId);
          const message = `endpoint unknown (the seed's file did not record its model); name it once with: falai status <endpoint> ${record.requestId}, or drop it: falai forget ${record.requestId}`;
          errors.push({ requestId: record.requestId, code: 'INPUT_INVALID', message });
          this.note(`! ${record.requestId}: ${message}`);
        }
        return 'unknown';
      }
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
          // An expired result is recorded as failed (its error says it expired).
          status: outcome.state === 'expired' ? 'failed' : outcome.state,
          ...(outcome.state === 'completed' ? { result: outcome.output } : {}),
          ...(outcome.state === 'failed' || outcome.state === 'expired'
            ? { error: recordError(outcome.error) }
            : {}),
        };
        let final = item;
        if (outcome.state === 'completed' && this.flags.download) {
          const outputs = await downloadOutputs({
            requestId: current.requestId,
            result: outcome.output,
            ...outputTarget({
              out: this.flags.out,
              name: this.flags.name,
              defaultDir: settings.outputDir,
              requestId: current.requestId,
              endpointId: current.endpointId,
            }),
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

    let unchecked = 0;
    try {
      for (;;) {
        passes++;
        let results: Awaited<ReturnType<typeof checkOne>>[];
        try {
          const active = await store.list({ status: ACTIVE_STATUSES });
          results = await Promise.all(active.map((record) => limit(() => checkOne(record))));
          storeFailing = undefined;
        } catch (error) {
          // --watch rides out a store that is briefly unreachable (a Redis restart): the pass
          // is retried with backoff, and only a store failing for STORE_RETRY_MS ends the run.
          const failure = toFalaiError(error);
          storeFailing ??= { since: Date.now(), times: 0 };
          const over =
            this.flags.timeout !== undefined && Date.now() - started >= this.flags.timeout;
          if (!this.flags.watch || failure.code !== 'STORE_ERROR' || over) throw error;
          if (Date.now() - storeFailing.since >= STORE_RETRY_MS) throw error;
          this.note(`! ${failure.message} (retrying)`);
          const wait = Math.min(interval * 2 ** storeFailing.times++, 30_000);
          await new Promise((resolve) => setTimeout(resolve, wait));
          continue;
        }
        pending = results.filter((state) => state !== 'done').length;
        skipped = results.filter((state) => state === 'skipped').length;
        unchecked = results.filter((state) => state === 'unknown').length;
        if (!this.flags.watch || interrupted || pending - unchecked === 0) break;
        if (this.flags.timeout !== undefined && Date.now() - started >= this.flags.timeout) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, interval);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
        if (interrupted) break;
      }
    } finally {
      process.removeListener('SIGINT', onSigint);
    }

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
    const hint = await seedFileHint(settings, process.env);
    if (hint) this.note(hint);
    if (interrupted) {
      throw new AbortedError(
        'ABORTED',
        `Interrupted; ${pending} request${pending === 1 ? '' : 's'} still pending (recorded in ${store.location}). Resume with: falai poll${this.flags.watch ? ' --watch' : ''}${this.flags.download ? ' --download' : ''}`,
        { details: { pending, completed: completed.length } },
      );
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
