import {
  type HistoryQuery,
  matchesHistoryQuery,
  type PendingRecord,
  searchTerms,
  statusList,
} from '@falai/core/store-kit';
import type { Redis } from 'ioredis';

/**
 * History search on Redis without RediSearch: the time index (a sorted set) is walked newest
 * first in bounded pages, and a Lua script checks each page's small search fields on the server
 * (`status`, `e` the endpoint, `p` the prompt's words as core's `promptIndexText` writes them),
 * so only matching ids come back. Whole records are read for the matches alone. Records written
 * before the search fields existed are checked here, from their data.
 */

/** Ids per page: one script call holds Redis for at most this many small field reads. */
export const SEARCH_PAGE = 1_000;

/**
 * KEYS: rec1..recN. ARGV: statuses (comma list)|'', endpoint|'', term1..termK (lower-case
 * words). Returns {matched, unknown}: 1-based positions of the keys that match, and of those
 * without search fields (written by an older falai) that the caller must check itself.
 */
export const SEARCH = `
local statuses = nil
if ARGV[1] ~= '' then
  statuses = {}
  for s in string.gmatch(ARGV[1], '[^,]+') do statuses[s] = true end
end
local matched, unknown = {}, {}
for i = 1, #KEYS do
  local f = redis.call('HMGET', KEYS[i], 'status', 'e', 'p')
  if f[1] then
    if not f[3] then
      table.insert(unknown, i)
    elseif (statuses == nil or statuses[f[1]]) and (ARGV[2] == '' or f[2] == ARGV[2]) then
      local ok = true
      for t = 3, #ARGV do
        if not string.find(f[3], ' ' .. ARGV[t], 1, true) then ok = false break end
      end
      if ok then table.insert(matched, i) end
    end
  end
end
return {matched, unknown}
`;

/** What the search needs of the store it belongs to. */
export interface RedisSearchContext {
  redis(operation: string): Promise<Redis>;
  run(
    operation: string,
    script: string,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown>;
  readonly index: string;
  record(requestId: string): string;
  decode(
    requestId: string,
    data: string,
    owner: unknown,
    expiry: unknown,
    operation: string,
  ): PendingRecord;
  fail(operation: string, error: unknown): never;
}

/** Answers a history query: matching records, newest first, at most `query.limit`. */
export async function searchRedis(
  context: RedisSearchContext,
  query: HistoryQuery,
): Promise<PendingRecord[]> {
  const statuses = statusList(query.status);
  if (statuses?.length === 0) return [];
  const limit = query.limit === undefined ? Number.POSITIVE_INFINITY : Math.max(0, query.limit);
  if (limit === 0) return [];
  const terms = searchTerms(query.text);
  const r = await context.redis('search');
  const min = query.since === undefined ? '-inf' : String(Date.parse(query.since));
  let max = query.before === undefined ? '+inf' : `(${Date.parse(query.before)}`;
  // Ids already handled at the score `max` now stands on (ties share a millisecond).
  let seenAtMax = new Set<string>();
  let lastScore: string | undefined;
  const found: PendingRecord[] = [];
  for (;;) {
    let reply: string[];
    try {
      reply = await r.zrevrangebyscore(
        context.index,
        max,
        min,
        'WITHSCORES',
        'LIMIT',
        0,
        SEARCH_PAGE + seenAtMax.size,
      );
    } catch (error) {
      return context.fail('search', error);
    }
    if (reply.length === 0) break;
    const page: string[] = [];
    const scores: string[] = [];
    for (let i = 0; i < reply.length; i += 2) {
      const id = reply[i] as string;
      const score = reply[i + 1] as string;
      if (score === lastScore && seenAtMax.has(id)) continue;
      page.push(id);
      scores.push(score);
    }
    const [matched, unknown] = (await context.run(
      'search',
      SEARCH,
      page.map((id) => context.record(id)),
      [statuses?.join(',') ?? '', query.endpointId ?? '', ...terms],
    )) as [number[], number[]];
    const candidates = [...matched, ...unknown].sort((a, b) => a - b);
    if (candidates.length > 0) {
      const pipeline = r.pipeline();
      for (const position of candidates) {
        pipeline.hmget(context.record(page[position - 1] as string), 'data', 'lo', 'le');
      }
      let replies: [Error | null, unknown][];
      try {
        replies = (await pipeline.exec()) ?? [];
      } catch (error) {
        return context.fail('search', error);
      }
      const isUnknown = new Set(unknown);
      candidates.forEach((position, i) => {
        if (found.length >= limit) return;
        const [error, fields] = replies[i] ?? [new Error('no reply'), null];
        if (error) context.fail('search', error);
        const [data, owner, expiry] = fields as (string | null)[];
        if (data === null || data === undefined) return; // expired meanwhile
        const id = page[position - 1] as string;
        const record = context.decode(id, data, owner, expiry, 'search');
        if (isUnknown.has(position) && !matchesHistoryQuery(record, query)) return;
        found.push(record);
      });
    }
    const exhausted = reply.length < 2 * (SEARCH_PAGE + seenAtMax.size);
    if (found.length >= limit || exhausted || page.length === 0) break;
    // Next page: from the last score on (inclusive), skipping the ids already seen at it.
    const tail = scores[scores.length - 1] as string;
    const atTail = page.filter((_, i) => scores[i] === tail);
    seenAtMax = tail === lastScore ? new Set([...seenAtMax, ...atTail]) : new Set(atTail);
    lastScore = tail;
    max = tail;
  }
  return found;
}
