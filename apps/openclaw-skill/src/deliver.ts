import { randomUUID } from 'node:crypto';
import type { PendingRecord, PendingStore } from '@falai/core';
import { isTerminalStatus } from '@falai/core/internal';

/** Record tag holding the OpenClaw session key that asked for the job (`submit --session`). */
export const SESSION_TAG = 'openclaw.session';
/** Record tag set (ISO time) once a finished job was handed to the chat: never twice. */
export const DELIVERED_TAG = 'openclaw.deliveredAt';

/** How long one delivery run holds a record while it marks it delivered. */
const DELIVERY_LEASE_MS = 60_000;

/** Options of {@link takeDeliveries}. */
export interface TakeDeliveriesOptions {
  readonly store: PendingStore;
  /** The session whose finished jobs are delivered (the `openclaw.session` tag). */
  readonly session: string;
  /** Lease owner for this run. @default a random id */
  readonly owner?: string;
  readonly now?: () => Date;
}

/** Finished jobs of `session` not delivered yet (what {@link takeDeliveries} would take). */
export async function undelivered(store: PendingStore, session: string): Promise<PendingRecord[]> {
  const records = await store.list({ status: ['completed', 'failed', 'expired'] });
  return records.filter(
    (record) =>
      record.tags?.[SESSION_TAG] === session && record.tags?.[DELIVERED_TAG] === undefined,
  );
}

/**
 * Takes the finished, undelivered jobs of one session and marks each delivered, at most once
 * across any number of overlapping runs: each record is leased (`claim`), re-read under the
 * lease, and marked only by the lease holder (`update` with a `leaseOwner` condition). Returns
 * the records this run took; the caller hands them to the chat (at-most-once delivery).
 */
export async function takeDeliveries(options: TakeDeliveriesOptions): Promise<PendingRecord[]> {
  const { store, session } = options;
  const owner = options.owner ?? `falai-deliver-${randomUUID()}`;
  const now = options.now ?? (() => new Date());
  const taken: PendingRecord[] = [];
  for (const candidate of await undelivered(store, session)) {
    const claimed = await store.claim(candidate.requestId, owner, DELIVERY_LEASE_MS);
    if (claimed.kind !== 'claimed') continue;
    try {
      const record = claimed.record;
      if (!isTerminalStatus(record.status) || record.status === 'cancelled') continue;
      if (record.tags?.[SESSION_TAG] !== session || record.tags?.[DELIVERED_TAG] !== undefined)
        continue;
      const marked = await store.update(
        record.requestId,
        { tags: { ...record.tags, [DELIVERED_TAG]: now().toISOString() } },
        { leaseOwner: owner },
      );
      if (marked.kind === 'updated') taken.push(marked.record);
    } finally {
      await store.release(candidate.requestId, owner).catch(() => false);
    }
  }
  return taken;
}

/** Collapses whitespace so text from fal cannot start a line of its own (e.g. a fake MEDIA:). */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * The chat message for delivered jobs, in OpenClaw's reply format (openclaw.md §7): per job a
 * short caption, then one standalone `MEDIA:<path>` line per output (the local file in the
 * workspace; fal's https URL only when the file was not downloaded). Failed jobs get one line
 * with the reason. Empty string when there is nothing to say.
 */
export function renderDeliveries(records: readonly PendingRecord[]): string {
  const lines: string[] = [];
  for (const record of records) {
    if (record.status === 'completed') {
      const media = (record.outputs ?? []).map((output) => `MEDIA:${output.path}`);
      if (media.length === 0) {
        for (const url of urlsOf(record.result)) media.push(`MEDIA:${url}`);
      }
      lines.push(`fal.ai ${record.endpointId} finished (request ${record.requestId}).`);
      lines.push(...media);
    } else {
      const reason = record.error ? `: ${oneLine(record.error.message)}` : '';
      lines.push(
        `fal.ai ${record.endpointId} request ${record.requestId} ${record.status}${reason}`,
      );
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** https URLs of files in a result (`{ url }` objects), for outputs that were not downloaded. */
function urlsOf(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) urlsOf(item, out);
  } else if (value && typeof value === 'object') {
    const url = (value as { url?: unknown }).url;
    if (typeof url === 'string' && /^https:\/\/\S+$/.test(url)) out.push(url);
    else for (const item of Object.values(value)) urlsOf(item, out);
  }
  return out;
}
