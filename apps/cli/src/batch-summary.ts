import { BATCH_TAGS, type PendingRecord } from '@falai/core';

/** Batches found in records' tags: hash, endpoint, distinct rows and requests by status. */
export function summariseBatches(records: readonly PendingRecord[]): Record<string, unknown>[] {
  const batches = new Map<
    string,
    {
      endpointId: string;
      rows: Set<string>;
      statuses: Record<string, number>;
      requests: number;
      lastAt: string;
    }
  >();
  for (const record of records) {
    const hash = record.tags?.[BATCH_TAGS.batch];
    if (!hash) continue;
    const entry = batches.get(hash) ?? {
      endpointId: record.endpointId,
      rows: new Set<string>(),
      statuses: {},
      requests: 0,
      lastAt: record.submittedAt,
    };
    entry.rows.add(record.tags?.[BATCH_TAGS.row] ?? record.requestId);
    entry.statuses[record.status] = (entry.statuses[record.status] ?? 0) + 1;
    entry.requests += 1;
    if (record.submittedAt > entry.lastAt) entry.lastAt = record.submittedAt;
    batches.set(hash, entry);
  }
  return [...batches].map(([batch, entry]) => ({
    batch,
    endpointId: entry.endpointId,
    rows: entry.rows.size,
    requests: entry.requests,
    statuses: entry.statuses,
    lastSubmittedAt: entry.lastAt,
  }));
}
