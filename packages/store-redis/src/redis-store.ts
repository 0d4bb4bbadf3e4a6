import { createHash } from 'node:crypto';
import {
  BUDGET_RETENTION_MS,
  type BudgetLedger,
  type BudgetReserveOutcome,
  type BudgetSettleOutcome,
  type ClaimOutcome,
  checkBudgetScope,
  corruptError,
  fromMicroUsd,
  type HistoryQuery,
  isTerminalStatus,
  type Lease,
  matchesFilter,
  normaliseBudgetReserve,
  normaliseBudgetSettle,
  type PendingFilter,
  type PendingPatch,
  type PendingRecord,
  type PendingStore,
  parseBudgetReservationId,
  parseJsonExact,
  parseStoredRecord,
  planUpdate,
  prepareRecordForWrite,
  promptIndexText,
  promptOf,
  recordToJson,
  redactStoreLocation,
  StoreError,
  type StoreRedactorOption,
  statusList,
  storeRedactor,
  type UpdateCondition,
  type UpdateOutcome,
} from '@falai/core/store-kit';
import type { Redis } from 'ioredis';
import { searchRedis } from './history.js';
import {
  BUDGET_RELEASE,
  BUDGET_RESERVE,
  BUDGET_SETTLE,
  BUDGET_USAGE,
  CLAIM,
  PRUNE,
  PUT,
  RELEASE,
  REMOVE,
  RENEW,
  UPDATE,
} from './scripts.js';

/** Options of `createRedisStore`. */
export interface RedisStoreOptions extends StoreRedactorOption {
  /**
   * Where Redis is: `redis://[user:password@]host:port/db`, `rediss://` for TLS.
   * Ignored when `client` is given.
   * @default 'redis://127.0.0.1:6379'
   */
  readonly url?: string;
  /** Your own ioredis client (e.g. a Cluster or Sentinel setup); the store never quits it. */
  readonly client?: Redis;
  /**
   * Prefix of every key, so several teams or environments can share one Redis.
   * Letters, digits and `_ . : -` only.
   * @default 'falai'
   */
  readonly prefix?: string | undefined;
  /**
   * Finished records (completed, failed, cancelled) expire after this many seconds;
   * `0` keeps them for ever. Active records never expire. They are falai's history
   * (`falai history`), kept as long as the `historyRetentionDays` setting's default.
   * @default 2592000 (30 days)
   */
  readonly retentionSeconds?: number | undefined;
  /**
   * How long to wait for a connection (and Redis's first answer on it) before failing with
   * `STORE_ERROR`. Also `?connectTimeout=<ms>` in the URL.
   * @default 5000
   */
  readonly connectTimeoutMs?: number;
  /**
   * How long one command may wait for its answer before failing with `STORE_ERROR`, so a
   * server that accepts connections but never answers cannot hang falai. Also
   * `?commandTimeout=<ms>` in the URL.
   * @default 5000
   */
  readonly commandTimeoutMs?: number;
}

/** A timeout from the URL's query (`?connectTimeout=2000`), removed from the URL. */
function takeTimeout(url: URL, name: string): number | undefined {
  const text = url.searchParams.get(name);
  if (text === null) return undefined;
  url.searchParams.delete(name);
  const ms = Number(text);
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new StoreError(
      'STORE_ERROR',
      `Redis URL option ${name}=${text} must be a positive number of milliseconds.`,
      { store: 'redis', operation: 'open' },
    );
  }
  return ms;
}

/** The URL without falai's own query options, and those options. */
function splitUrl(raw: string): {
  url: string;
  connect?: number | undefined;
  command?: number | undefined;
} {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return { url: raw };
  }
  const connect = takeTimeout(parsed, 'connectTimeout');
  const command = takeTimeout(parsed, 'commandTimeout');
  if (connect === undefined && command === undefined) return { url: raw };
  return {
    url: parsed.toString().replace(/\?$/, ''),
    connect,
    command,
  };
}

/** The one hash tag of every key: all keys of a store hash to one Cluster slot. */
export const HASH_TAG = '{falai}';

const BATCH = 500;

interface Keys {
  readonly index: string;
  record(requestId: string): string;
  /** A budget scope's hash (sums and entries). */
  budget(scope: string): string;
  /** A budget scope's reservations by expiry. */
  budgetLive(scope: string): string;
  readonly pattern: string;
}

/** A scope as a key part: `%`, `{` and `}` escaped, so the key keeps one hash tag. */
const keyPart = (text: string) =>
  text.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * Key names for a prefix: `<prefix>:{falai}:rec:<id>`, `<prefix>:{falai}:idx`, and per budget
 * scope `<prefix>:{falai}:bgt:<scope>` and `<prefix>:{falai}:bgl:<scope>`.
 */
export function redisKeys(prefix: string): Keys {
  const base = `${prefix}:${HASH_TAG}`;
  return {
    index: `${base}:idx`,
    record: (requestId) => `${base}:rec:${requestId}`,
    budget: (scope) => `${base}:bgt:${keyPart(scope)}`,
    budgetLive: (scope) => `${base}:bgl:${keyPart(scope)}`,
    pattern: `${base}:*`,
  };
}

function checkPrefix(prefix: string): void {
  if (!/^[A-Za-z0-9_.:-]+$/.test(prefix)) {
    throw new StoreError(
      'STORE_ERROR',
      `Redis key prefix "${prefix}" may only use letters, digits and _ . : - ` +
        '(no braces: falai adds its own Cluster hash tag).',
      { store: 'redis', operation: 'open' },
    );
  }
}

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

/**
 * A `PendingStore` on Redis for teams whose CLI processes and pollers run on many machines.
 * Every change is one Lua script (atomic); leases use the server's clock; finished records
 * expire after `retentionSeconds`. Connects on first use.
 */
export function createRedisStore(options: RedisStoreOptions = {}): PendingStore {
  const prefix = options.prefix ?? 'falai';
  checkPrefix(prefix);
  const redactor = storeRedactor(options);
  const split = splitUrl(options.url ?? 'redis://127.0.0.1:6379');
  const url = split.url;
  const connectTimeoutMs = options.connectTimeoutMs ?? split.connect ?? 5_000;
  const commandTimeoutMs = options.commandTimeoutMs ?? split.command ?? 5_000;
  const retention = Math.max(0, Math.floor(options.retentionSeconds ?? 30 * 24 * 3600));
  const keys = redisKeys(prefix);
  const where = options.client
    ? `redis://${options.client.options.host ?? '?'}:${options.client.options.port ?? '?'}/${options.client.options.db ?? 0}`
    : redactStoreLocation(url);
  const location = `${where} (prefix ${prefix})`;
  let client: Redis | undefined = options.client;
  let connecting: Promise<Redis> | undefined;
  let closed = false;

  const context = (operation: string, at = location) => ({
    store: 'redis',
    operation,
    location: at,
  });

  const fail = (operation: string, error: unknown): never => {
    if (error instanceof StoreError) throw error;
    // ioredis messages end with a period ("Connection is closed."); the sentence goes on.
    let message = ((error as Error).message ?? String(error)).replace(/[\s.]+$/, '');
    if (message === 'Command timed out') {
      message = `Redis did not answer within ${commandTimeoutMs} ms`;
    }
    throw new StoreError(
      'STORE_ERROR',
      `The Redis store at ${location} failed to ${operation}: ${redactStoreLocation(message)}. ` +
        'Check that Redis is running and reachable, or choose another store with FALAI_STORE.',
      { ...context(operation), cause: error },
    );
  };

  /**
   * The connection, made on first use. Connecting (up to Redis's first answer) is bounded by
   * `connectTimeoutMs`, every command by `commandTimeoutMs`. A dropped connection is retried
   * with backoff, then replaced by a new one on the next command, so a long-lived user
   * (`poll --watch`) rides out a Redis restart: commands issued meanwhile fail fast with
   * `STORE_ERROR` and the next ones go through once Redis is back.
   */
  async function redis(operation: string): Promise<Redis> {
    if (closed) {
      throw new StoreError(
        'STORE_ERROR',
        `The Redis store ${location} was closed; open it again.`,
        {
          ...context(operation),
        },
      );
    }
    // A client ioredis gave up on is replaced by a new connection.
    if (client && !options.client && client.status === 'end') client = undefined;
    if (client) return client;
    connecting ??= (async () => {
      const mod = await import('ioredis');
      const RedisClass = (mod.Redis ?? mod.default) as unknown as typeof import('ioredis').Redis;
      const created = new RedisClass(url, {
        lazyConnect: true,
        connectTimeout: connectTimeoutMs,
        commandTimeout: commandTimeoutMs,
        maxRetriesPerRequest: 2,
        // A dropped connection is retried with backoff for ~3 s; after that the client ends
        // (nothing keeps the process alive) and the next command connects afresh.
        retryStrategy: (times: number) =>
          times > 5 || closed ? null : Math.min(times * 200, 1_000),
      });
      let socketError: unknown;
      created.on('error', (error: unknown) => {
        socketError = error;
      });
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          created.connect(),
          new Promise((_, reject) => {
            timer = setTimeout(
              () =>
                reject(
                  new Error(
                    `Redis accepted no connection, or did not answer on it, within ${connectTimeoutMs} ms`,
                  ),
                ),
              connectTimeoutMs,
            );
          }),
        ]);
      } catch (error) {
        created.disconnect();
        // ioredis gives up with a bare "Connection is closed."; the socket error it reported
        // before (ECONNREFUSED, ENOTFOUND, a TLS or auth failure) says why.
        throw socketError ?? error;
      } finally {
        clearTimeout(timer);
      }
      client = created;
      return created;
    })();
    try {
      return await connecting;
    } catch (error) {
      return fail(`connect (${operation})`, error);
    } finally {
      connecting = undefined;
    }
  }

  async function run(
    operation: string,
    script: string,
    scriptKeys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    const r = await redis(operation);
    try {
      return await r.evalsha(sha1(script), scriptKeys.length, ...scriptKeys, ...args);
    } catch (error) {
      if (!String((error as Error).message).includes('NOSCRIPT')) return fail(operation, error);
    }
    try {
      return await r.eval(script, scriptKeys.length, ...scriptKeys, ...args);
    } catch (error) {
      return fail(operation, error);
    }
  }

  const ttlFor = (record: PendingRecord) => (isTerminalStatus(record.status) ? retention : 0);
  const dataOf = (record: PendingRecord): string => {
    const { lease: _lease, ...data } = record;
    return recordToJson(data as PendingRecord);
  };
  const leaseOf = (owner: unknown, expiry: unknown): Lease | undefined =>
    typeof owner === 'string' && owner !== '' && expiry !== null && expiry !== false
      ? { owner, expiresAt: new Date(Number(expiry)).toISOString() }
      : undefined;

  /** Rebuilds a record from its hash fields; damage is STORE_CORRUPT naming the key. */
  function decode(
    requestId: string,
    data: string,
    owner: unknown,
    expiry: unknown,
    operation: string,
  ): PendingRecord {
    const at = context(operation, `${location} key ${keys.record(requestId)}`);
    let value: unknown;
    try {
      value = parseJsonExact(data);
    } catch (error) {
      throw corruptError(at, `not valid JSON (${(error as Error).message})`, error);
    }
    const lease = leaseOf(owner, expiry);
    if (lease && typeof value === 'object' && value !== null) {
      value = { ...(value as object), lease };
    }
    return parseStoredRecord(value, at);
  }

  async function read(
    requestId: string,
    operation: string,
  ): Promise<{ record: PendingRecord; version: string } | undefined> {
    const r = await redis(operation);
    let fields: (string | null)[];
    try {
      fields = await r.hmget(keys.record(requestId), 'data', 'v', 'lo', 'le');
    } catch (error) {
      return fail(operation, error);
    }
    const [data, version, owner, expiry] = fields;
    if (data === null || data === undefined) return undefined;
    return { record: decode(requestId, data, owner, expiry, operation), version: version ?? '' };
  }

  async function write(record: PendingRecord, operation: string): Promise<void> {
    await run(
      operation,
      PUT,
      [keys.record(record.requestId), keys.index],
      [
        dataOf(record),
        record.status,
        Date.parse(record.submittedAt),
        record.requestId,
        record.lease?.owner ?? '',
        record.lease ? Date.parse(record.lease.expiresAt) : '',
        ttlFor(record),
        promptIndexText(promptOf(record)),
        record.endpointId,
      ],
    );
  }

  const budgetKeys = (scope: string) => [keys.budget(scope), keys.budgetLive(scope)];
  /** A sum or amount the scripts return (integer micro-dollars as text); damage is corrupt. */
  const micros = (value: unknown, scope: string, operation: string): number => {
    const n = Number(value);
    if (typeof value !== 'string' || !Number.isSafeInteger(n)) {
      throw corruptError(
        context(operation, `${location} key ${keys.budget(scope)}`),
        `a budget sum reads ${JSON.stringify(value)}, not a whole number of micro-dollars`,
      );
    }
    return n;
  };

  /** Every decision is one Lua script; reservation expiry uses the server's clock. */
  const budget: BudgetLedger = {
    async reserve(request): Promise<BudgetReserveOutcome> {
      const input = normaliseBudgetReserve(request, redactor);
      const reply = (await run('reserve', BUDGET_RESERVE, budgetKeys(input.scope), [
        input.requestKey,
        input.amountMicros,
        input.capMicros,
        input.ttlMs,
        input.endsAtMs,
        BUDGET_RETENTION_MS,
      ])) as [string, unknown, unknown, unknown];
      const [outcome, amountText, spentText, reservedText] = reply;
      const amount = micros(amountText, input.scope, 'reserve');
      const spent = micros(spentText, input.scope, 'reserve');
      const reserved = micros(reservedText, input.scope, 'reserve');
      if (outcome === 'refused') {
        return {
          ok: false,
          spentUsd: fromMicroUsd(spent),
          reservedUsd: fromMicroUsd(reserved),
          capUsd: fromMicroUsd(input.capMicros),
          amountUsd: fromMicroUsd(amount),
        };
      }
      return {
        ok: true,
        reservationId: input.reservationId,
        amountUsd: fromMicroUsd(amount),
        remainingUsd: fromMicroUsd(Math.max(0, input.capMicros - spent - reserved)),
        duplicate: outcome === 'duplicate',
      };
    },

    async settle(reservationId, actualUsd): Promise<BudgetSettleOutcome> {
      const input = normaliseBudgetSettle(reservationId, actualUsd, redactor);
      const [previous, spent, reserved] = (await run(
        'settle',
        BUDGET_SETTLE,
        budgetKeys(input.scope),
        [input.requestKey, input.actualMicros, input.endsAtMs, BUDGET_RETENTION_MS],
      )) as [BudgetSettleOutcome['previous'], unknown, unknown];
      return {
        previous,
        spentUsd: fromMicroUsd(micros(spent, input.scope, 'settle')),
        reservedUsd: fromMicroUsd(micros(reserved, input.scope, 'settle')),
      };
    },

    async release(reservationId): Promise<boolean> {
      const ref = parseBudgetReservationId(reservationId, redactor, 'release');
      const n = await run('release', BUDGET_RELEASE, budgetKeys(ref.scope), [ref.requestKey]);
      return Number(n) === 1;
    },

    async usage(scope) {
      const name = checkBudgetScope(scope, redactor, 'usage');
      const [spent, reserved] = (await run('usage', BUDGET_USAGE, budgetKeys(name), [])) as [
        unknown,
        unknown,
      ];
      return {
        spentUsd: fromMicroUsd(micros(spent, name, 'usage')),
        reservedUsd: fromMicroUsd(micros(reserved, name, 'usage')),
      };
    },
  };

  return {
    kind: 'redis',
    location,
    capabilities: {
      crossProcess: true,
      crossMachine: true,
      durable: true,
      retention: retention > 0,
    },
    budget,

    async put(record: PendingRecord): Promise<void> {
      await write(prepareRecordForWrite(record, context('put'), redactor), 'put');
    },

    async get(requestId: string): Promise<PendingRecord | undefined> {
      return (await read(requestId, 'get'))?.record;
    },

    async list(filter: PendingFilter = {}): Promise<PendingRecord[]> {
      const statuses = statusList(filter.status);
      if (statuses?.length === 0) return [];
      const r = await redis('list');
      const min = filter.since === undefined ? '-inf' : String(Date.parse(filter.since));
      const max = filter.before === undefined ? '+inf' : `(${Date.parse(filter.before)}`;
      let ids: string[];
      try {
        ids = await r.zrangebyscore(keys.index, min, max);
      } catch (error) {
        return fail('list', error);
      }
      const out: PendingRecord[] = [];
      const expired: string[] = [];
      for (let start = 0; start < ids.length; start += BATCH) {
        const chunk = ids.slice(start, start + BATCH);
        const pipeline = r.pipeline();
        for (const id of chunk) pipeline.hmget(keys.record(id), 'data', 'lo', 'le');
        let replies: [Error | null, unknown][];
        try {
          replies = (await pipeline.exec()) ?? [];
        } catch (error) {
          return fail('list', error);
        }
        chunk.forEach((id, i) => {
          const [error, fields] = replies[i] ?? [new Error('no reply'), null];
          if (error) fail('list', error);
          const [data, owner, expiry] = fields as (string | null)[];
          if (data === null || data === undefined) {
            expired.push(id);
            return;
          }
          const record = decode(id, data, owner, expiry, 'list');
          if (matchesFilter(record, filter)) out.push(record);
        });
        if (filter.limit !== undefined && out.length >= filter.limit) break;
      }
      // Records that reached their retention TTL leave the index here, atomically.
      for (let start = 0; start < expired.length; start += BATCH) {
        const chunk = expired.slice(start, start + BATCH);
        await run('list', PRUNE, [keys.index, ...chunk.map((id) => keys.record(id))], chunk);
      }
      return filter.limit === undefined ? out : out.slice(0, Math.max(0, filter.limit));
    },

    async search(query: HistoryQuery): Promise<PendingRecord[]> {
      return searchRedis(
        { redis, run, index: keys.index, record: keys.record, decode, fail },
        query,
      );
    },

    async update(
      requestId: string,
      patch: PendingPatch,
      condition?: UpdateCondition,
    ): Promise<UpdateOutcome> {
      const statuses = statusList(condition?.status);
      for (;;) {
        const current = await read(requestId, 'update');
        if (!current) return { kind: 'missing' };
        if (statuses?.length === 0) return { kind: 'conflict', current: current.record };
        const planned = planUpdate(current.record, patch, undefined, redactor);
        if (planned.kind !== 'updated') return planned;
        const next = planned.record;
        const reply = (await run(
          'update',
          UPDATE,
          [keys.record(requestId), keys.index],
          [
            current.version,
            dataOf(next),
            next.status,
            Date.parse(next.submittedAt),
            requestId,
            ttlFor(next),
            statuses?.join(',') ?? '',
            condition?.leaseOwner ?? '',
          ],
        )) as [string, string | null, string | null];
        const lease = leaseOf(reply[1], reply[2]);
        const withLease = (record: PendingRecord): PendingRecord => {
          const { lease: _old, ...rest } = record;
          return lease ? { ...rest, lease } : rest;
        };
        if (reply[0] === 'missing') return { kind: 'missing' };
        if (reply[0] === 'conflict')
          return { kind: 'conflict', current: withLease(current.record) };
        if (reply[0] === 'updated') return { kind: 'updated', record: withLease(next) };
        // 'retry': someone changed the record between our read and our write; read again.
      }
    },

    async remove(requestId: string): Promise<boolean> {
      const n = await run('remove', REMOVE, [keys.record(requestId), keys.index], [requestId]);
      return Number(n) > 0;
    },

    async claim(requestId: string, owner: string, ttlMs: number): Promise<ClaimOutcome> {
      if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
        throw new StoreError('STORE_ERROR', `A lease needs a positive ttlMs; got ${ttlMs}.`, {
          ...context('claim'),
        });
      }
      const reply = (await run(
        'claim',
        CLAIM,
        [keys.record(requestId)],
        [owner, Math.ceil(ttlMs)],
      )) as [string, string?, string?, string?];
      if (reply[0] === 'missing') return { kind: 'missing' };
      const lease = leaseOf(reply[1], reply[2]) as Lease;
      if (reply[0] === 'held') return { kind: 'held', lease };
      const record = decode(requestId, reply[3] ?? '', reply[1], reply[2], 'claim');
      return { kind: 'claimed', record, lease };
    },

    async renew(requestId: string, owner: string, ttlMs: number): Promise<boolean> {
      if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
        throw new StoreError('STORE_ERROR', `A lease needs a positive ttlMs; got ${ttlMs}.`, {
          ...context('renew'),
        });
      }
      const n = await run('renew', RENEW, [keys.record(requestId)], [owner, Math.ceil(ttlMs)]);
      return Number(n) === 1;
    },

    async release(requestId: string, owner: string): Promise<boolean> {
      return Number(await run('release', RELEASE, [keys.record(requestId)], [owner])) === 1;
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const own = !options.client;
      const current = client ?? (connecting ? await connecting.catch(() => undefined) : undefined);
      if (own && current) {
        await current.quit().catch(() => current.disconnect());
      }
      client = undefined;
    },
  };
}
