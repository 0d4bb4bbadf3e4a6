import { setTimeout as delay } from 'node:timers/promises';
import type { SubmitIntentJournal } from '../lifecycle/intents.js';
import { recoverRequests } from '../lifecycle/recover.js';
import type { PlatformClient } from '../platform/client.js';
import type { PendingStore } from '../store/types.js';
import type { BatchPlan, PlannedRow } from './plan.js';
import { batchRecords, batchRowWork, type LostSubmit } from './row.js';

/** The note a batch puts on a row's submit in a shared journal: `batch:<hash>:<row key>`. */
export const batchIntentRef = (hash: string, row: Pick<PlannedRow, 'key'>): string =>
  `batch:${hash}:${row.key}`;

/** Options of {@link lostSubmitResolver}. */
export interface LostSubmitResolverOptions {
  readonly plan: Pick<BatchPlan, 'hash' | 'endpointId'>;
  readonly store: PendingStore;
  /** The notes of one row's submits ("sent, answer unknown"), and only that row's. */
  readonly journal: (row: PlannedRow) => SubmitIntentJournal | undefined;
  /**
   * fal's Platform API, whose request history tells a noted submit fal received from one it
   * never got. Without it a noted submit stays `unknown` (never sent twice).
   */
  readonly platform?: PlatformClient | undefined;
  /**
   * What a claimed row with no note and no record means. `not-sent` only where the claimant
   * provably cannot send any more (the distributed worker's lock fence: no POST without a
   * note and the row's lock); `unknown` otherwise (another process may be about to send it).
   */
  readonly unnoted: 'not-sent' | 'unknown';
  /**
   * How long after a noted submit fal's history must show it before it counts as never sent
   * (then it may be submitted). @default 120000
   */
  readonly graceMs?: number | undefined;
  /** fal's requests looked at per search of its history. @default 50000 */
  readonly maxScanned?: number | undefined;
}

/**
 * Decides a submit nobody recorded (`BatchRowContext.resolveLost`): a row whose POST's answer
 * was lost, or whose claim is held with no record. Its notes are looked for in fal's request
 * history (`recoverRequests`, adopting only what answers them): `found` once fal shows it (the
 * record is then in the store), `not-sent` once the grace period has passed without it. A row
 * whose notes are gone is looked at in the store again first: the note goes only after the
 * record is stored, so a claimant that was slow (not dead) has recorded it meanwhile.
 */
export function lostSubmitResolver(
  options: LostSubmitResolverOptions,
): (row: PlannedRow, attempt: number, signal?: AbortSignal) => Promise<LostSubmit> {
  const { plan, store } = options;
  const grace = Math.max(0, options.graceMs ?? 120_000);
  return async (row, attempt, signal) => {
    const journal = options.journal(row);
    for (;;) {
      const notes = journal
        ? (await journal.list()).filter((note) => note.endpointId === plan.endpointId)
        : [];
      if (notes.length === 0) {
        // Recorded after all? A request fal still runs or has completed is never sent again,
        // whichever attempt it was; otherwise attempt n is the row's n-th record.
        const records = (await batchRecords(store, plan)).get(row.key) ?? [];
        const live = batchRowWork(row, records);
        if (live.kind === 'follow') return { kind: 'found', record: live.record };
        const recorded = records.length > attempt ? records.at(-1) : undefined;
        if (recorded) return { kind: 'found', record: recorded };
        if (options.unnoted === 'not-sent') return { kind: 'not-sent' };
        return {
          kind: 'unknown',
          reason:
            'whoever claimed it left no note of a submit and no record (it may still be about to send it)',
        };
      }
      if (!options.platform || !journal) {
        return {
          kind: 'unknown',
          reason:
            "its submit may have reached fal and no Platform API client was given to look in fal's request history",
        };
      }
      const oldest = Math.min(...notes.map((note) => Date.parse(note.at)));
      const summary = await recoverRequests({
        store,
        platform: options.platform,
        intents: journal,
        endpointIds: [plan.endpointId],
        since: new Date(oldest - 5 * 60 * 1000),
        onlyIntents: true,
        intentGraceMs: grace,
        maxScanned: options.maxScanned ?? 50_000,
        signal,
      });
      for (const report of summary.intents) {
        if (report.outcome !== 'found' || !report.requestId) continue;
        const record = await store.get(report.requestId);
        if (record) return { kind: 'found', record };
      }
      if (summary.intents.length > 0 && summary.intents.every((r) => r.outcome === 'not-sent')) {
        return { kind: 'not-sent' };
      }
      if (summary.truncated) {
        // More of fal's history than one search reads: asking again cannot settle it.
        return {
          kind: 'unknown',
          reason: `fal's request history since its submit holds more than the ${summary.scanned} requests falai reads, so whether fal received it cannot be told`,
        };
      }
      // Not in fal's history yet: wait for it, or for the grace period to pass.
      await delay(Math.min(2000, Math.max(200, grace / 4)), undefined, { signal });
    }
  };
}
