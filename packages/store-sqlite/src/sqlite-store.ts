import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  type BudgetChange,
  type BudgetEntry,
  type BudgetLedger,
  type BudgetScopeView,
  budgetUsageOf,
  type ClaimOutcome,
  checkBudgetScope,
  corruptError,
  type HistoryQuery,
  normaliseBudgetReserve,
  normaliseBudgetSettle,
  type PendingFilter,
  type PendingPatch,
  type PendingRecord,
  type PendingStore,
  parseBudgetReservationId,
  parseStoredJson,
  planBudgetRelease,
  planBudgetReserve,
  planBudgetSettle,
  planClaim,
  planRelease,
  planRenew,
  planUpdate,
  prepareRecordForWrite,
  recordToJson,
  StoreError,
  type StoreRedactorOption,
  statusList,
  storeRedactor,
  type UpdateCondition,
  type UpdateOutcome,
} from '@falai/core/store-kit';
import type { Database, Statement } from 'better-sqlite3';
import { HISTORY_OBJECTS, historySql } from './history.js';
import { FALAI_APPLICATION_ID, FALAI_TABLES, MIGRATIONS, SCHEMA_VERSION } from './migrations.js';

/** Options of `createSqliteStore`. */
export interface SqliteStoreOptions extends StoreRedactorOption {
  /** The database file, or `:memory:` for a private in-memory database. */
  readonly path: string;
  /**
   * How long a statement waits for another process's write lock before failing.
   * @default 5000
   */
  readonly busyTimeoutMs?: number;
  /**
   * SQLite `synchronous` mode. `NORMAL` with WAL survives any process crash; `FULL` also
   * survives a power cut at the price of an fsync per write.
   * @default 'NORMAL'
   */
  readonly synchronous?: 'NORMAL' | 'FULL';
}

interface Row {
  readonly request_id: string;
  readonly record: string;
}

interface BudgetRow {
  readonly state: string;
  readonly micros: number;
  readonly expires_ms: number | null;
}

/**
 * A `PendingStore` on SQLite (better-sqlite3): WAL, a busy timeout, versioned migrations,
 * conditional updates in `BEGIN IMMEDIATE` transactions. Safe for many processes on one
 * machine; the database opens on first use.
 */
export function createSqliteStore(options: SqliteStoreOptions): PendingStore {
  const path = options.path;
  const redactor = storeRedactor(options);
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
  const migrations = MIGRATIONS;
  let db: Database | undefined;
  let statements:
    | {
        upsert: Statement;
        get: Statement;
        remove: Statement;
      }
    | undefined;
  let closed = false;

  const context = (operation: string, location = path) => ({
    store: 'sqlite',
    operation,
    location,
  });

  const fail = (operation: string, error: unknown): never => {
    if (error instanceof StoreError) throw error;
    const code = (error as { code?: string }).code ?? '';
    if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
      throw corruptError(context(operation), (error as Error).message, error);
    }
    const hint =
      code === 'SQLITE_BUSY'
        ? ` Another process held the database for over ${busyTimeoutMs} ms; retry, or raise busyTimeoutMs.`
        : code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY'
          ? ' Check that the directory exists and is writable.'
          : '';
    throw new StoreError(
      'STORE_ERROR',
      `The SQLite store at ${path} failed to ${operation}: ${(error as Error).message}.${hint}`,
      { ...context(operation), cause: error },
    );
  };

  function migrate(database: Database): void {
    const latest = migrations[migrations.length - 1]?.version ?? 0;
    database
      .transaction(() => {
        const current = database.pragma('user_version', { simple: true }) as number;
        if (current > SCHEMA_VERSION) throw newerError(current);
        for (const step of migrations) {
          if (step.version > current) step.up(database);
        }
        if (latest > current) database.pragma(`user_version = ${latest}`);
        if (database.pragma('application_id', { simple: true }) !== FALAI_APPLICATION_ID) {
          database.pragma(`application_id = ${FALAI_APPLICATION_ID}`);
        }
      })
      .immediate();
  }

  const newerError = (version: number) =>
    new StoreError(
      'STORE_ERROR',
      `${path} has schema version ${version}, newer than this falai understands ` +
        `(${SCHEMA_VERSION}). Upgrade falai, or point FALAI_STORE at another database.`,
      context('open'),
    );

  /**
   * Checks, before anything is written, that an existing database is falai's: marked with
   * falai's `application_id`, or (from before the marker) holding only falai's table and
   * indexes, or empty. Anything else belongs to another application and is left exactly as it
   * was: no table created, no WAL switch, no mode change.
   */
  function checkOwnership(database: Database): void {
    const applicationId = database.pragma('application_id', { simple: true }) as number;
    const version = database.pragma('user_version', { simple: true }) as number;
    const objects = database
      .prepare(
        "SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .all() as { type: string; name: string; tbl_name: string }[];
    const foreign = objects.filter(
      (o) =>
        !(o.type === 'table' && FALAI_TABLES.includes(o.name)) &&
        !HISTORY_OBJECTS.includes(o.name) &&
        !(
          o.type === 'index' &&
          FALAI_TABLES.includes(o.tbl_name) &&
          o.name.startsWith(`${o.tbl_name}_by_`)
        ),
    );
    const fix =
      'falai changed nothing in it. Point --store / FALAI_STORE at a new file for falai ' +
      `(e.g. sqlite:${join(dirname(path), 'falai-pending.db')}).`;
    if (applicationId !== 0 && applicationId !== FALAI_APPLICATION_ID) {
      throw new StoreError(
        'STORE_ERROR',
        `The SQLite database at ${path} belongs to another application (application_id ` +
          `0x${(applicationId >>> 0).toString(16)}), not falai; ${fix}`,
        context('open'),
      );
    }
    if (foreign.length > 0) {
      const names = foreign.slice(0, 5).map((o) => `${o.type} ${o.name}`);
      const more = foreign.length > 5 ? ` and ${foreign.length - 5} more` : '';
      throw new StoreError(
        'STORE_ERROR',
        `The SQLite database at ${path} is not a falai store: it holds ${names.join(', ')}` +
          `${more}, which falai did not create; ${fix}`,
        context('open'),
      );
    }
    if (version > SCHEMA_VERSION) throw newerError(version);
  }

  function open(operation: string): Database {
    if (closed) {
      throw new StoreError(
        'STORE_ERROR',
        `The SQLite store at ${path} was closed; open it again.`,
        {
          ...context(operation),
        },
      );
    }
    if (db) return db;
    let database: Database | undefined;
    try {
      const require = createRequire(import.meta.url);
      const BetterSqlite = require('better-sqlite3') as typeof import('better-sqlite3');
      const onDisk = path !== ':memory:';
      const existed = onDisk && existsSync(path);
      if (onDisk && !existed) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      database = new BetterSqlite(path, { timeout: busyTimeoutMs });
      database.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
      // Reading the header and schema changes nothing; only then is anything written.
      if (existed) checkOwnership(database);
      if (onDisk) {
        // A file falai creates is private; an existing one keeps its mode.
        if (!existed) chmodSync(path, 0o600);
        database.pragma('journal_mode = WAL');
      }
      database.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
      migrate(database);
      statements = {
        upsert: database.prepare(
          `INSERT INTO requests (request_id, endpoint_id, status, submitted_at, submitted_ms, record)
           VALUES (@id, @endpoint, @status, @submittedAt, @submittedMs, @record)
           ON CONFLICT (request_id) DO UPDATE SET endpoint_id = excluded.endpoint_id,
             status = excluded.status, submitted_at = excluded.submitted_at,
             submitted_ms = excluded.submitted_ms, record = excluded.record`,
        ),
        get: database.prepare('SELECT request_id, record FROM requests WHERE request_id = ?'),
        remove: database.prepare('DELETE FROM requests WHERE request_id = ?'),
      };
      db = database;
      return database;
    } catch (error) {
      database?.close();
      return fail(`open (${operation})`, error);
    }
  }

  const parseRow = (row: Row, operation: string): PendingRecord =>
    parseStoredJson(row.record, context(operation, `${path} (request ${row.request_id})`));

  const write = (record: PendingRecord): void => {
    statements?.upsert.run({
      id: record.requestId,
      endpoint: record.endpointId,
      status: record.status,
      submittedAt: record.submittedAt,
      submittedMs: Date.parse(record.submittedAt),
      record: recordToJson(record),
    });
  };

  /** Reads, decides and writes in one `BEGIN IMMEDIATE` transaction. */
  function atomically<T>(
    operation: string,
    requestId: string,
    decide: (current: PendingRecord | undefined) => { result: T; write?: PendingRecord },
  ): T {
    const database = open(operation);
    try {
      return database
        .transaction(() => {
          const row = statements?.get.get(requestId) as Row | undefined;
          const { result, write: next } = decide(row ? parseRow(row, operation) : undefined);
          if (next) write(next);
          return result;
        })
        .immediate();
    } catch (error) {
      return fail(operation, error);
    }
  }

  /**
   * One budget decision in one `BEGIN IMMEDIATE` transaction: drop what expired, read the
   * scope's settled spend, its live reservations and the request's entry, decide, write.
   */
  function budgetTransaction<T>(
    operation: string,
    scope: string,
    requestKey: string | undefined,
    decide: (view: BudgetScopeView, now: number) => { result: T; change?: BudgetChange },
  ): T {
    const database = open(operation);
    const at = context(operation, `${path} (budget scope ${scope})`);
    try {
      return database
        .transaction(() => {
          const now = Date.now();
          statement(
            database,
            `DELETE FROM budget_entries WHERE scope IN
                 (SELECT scope FROM budget_scopes WHERE retain_until_ms <= ?)`,
          ).run(now);
          statement(database, 'DELETE FROM budget_scopes WHERE retain_until_ms <= ?').run(now);
          statement(
            database,
            "DELETE FROM budget_entries WHERE scope = ? AND state = 'reserved' AND expires_ms <= ?",
          ).run(scope, now);
          const spent = statement(
            database,
            'SELECT spent_micros FROM budget_scopes WHERE scope = ?',
          )
            .pluck()
            .get(scope) as number | undefined;
          const reserved = statement(
            database,
            "SELECT COALESCE(SUM(micros), 0) FROM budget_entries WHERE scope = ? AND state = 'reserved'",
          )
            .pluck()
            .get(scope) as number;
          const row =
            requestKey === undefined
              ? undefined
              : (statement(
                  database,
                  'SELECT state, micros, expires_ms FROM budget_entries WHERE scope = ? AND request_key = ?',
                ).get(scope, requestKey) as BudgetRow | undefined);
          const entry = row ? budgetEntryOf(row, at) : undefined;
          const { result, change } = decide(
            { spentMicros: spent ?? 0, reservedMicros: reserved, entry },
            now,
          );
          if (change) applyBudgetChange(database, change, entry);
          return result;
        })
        .immediate();
    } catch (error) {
      return fail(operation, error);
    }
  }

  const budget: BudgetLedger = {
    async reserve(request) {
      const input = normaliseBudgetReserve(request, redactor);
      return budgetTransaction('reserve', input.scope, input.requestKey, (view, now) => {
        const plan = planBudgetReserve(view, input, now);
        return { result: plan.outcome, ...(plan.change ? { change: plan.change } : {}) };
      });
    },
    async settle(reservationId, actualUsd) {
      const input = normaliseBudgetSettle(reservationId, actualUsd, redactor);
      return budgetTransaction('settle', input.scope, input.requestKey, (view, now) => {
        const plan = planBudgetSettle(view, input, now);
        return { result: plan.outcome, change: plan.change };
      });
    },
    async release(reservationId) {
      const ref = parseBudgetReservationId(reservationId, redactor, 'release');
      return budgetTransaction('release', ref.scope, ref.requestKey, (view, now) => {
        const plan = planBudgetRelease(view, ref, now);
        return { result: plan.released, ...(plan.change ? { change: plan.change } : {}) };
      });
    },
    async usage(scope) {
      const name = checkBudgetScope(scope, redactor, 'usage');
      return budgetTransaction('usage', name, undefined, (view) => ({
        result: budgetUsageOf(view),
      }));
    },
  };

  return {
    kind: 'sqlite',
    location: path,
    capabilities: {
      crossProcess: path !== ':memory:',
      crossMachine: false,
      durable: path !== ':memory:',
      retention: false,
    },
    budget,

    async put(record: PendingRecord): Promise<void> {
      const valid = prepareRecordForWrite(record, context('put'), redactor);
      open('put');
      try {
        write(valid);
      } catch (error) {
        fail('put', error);
      }
    },

    async get(requestId: string): Promise<PendingRecord | undefined> {
      open('get');
      let row: Row | undefined;
      try {
        row = statements?.get.get(requestId) as Row | undefined;
      } catch (error) {
        fail('get', error);
      }
      return row ? parseRow(row, 'get') : undefined;
    },

    async list(filter: PendingFilter = {}): Promise<PendingRecord[]> {
      const database = open('list');
      const where: string[] = [];
      const params: (string | number)[] = [];
      const statuses = statusList(filter.status);
      if (statuses) {
        if (statuses.length === 0) return [];
        where.push(`status IN (${statuses.map(() => '?').join(', ')})`);
        params.push(...statuses);
      }
      if (filter.endpointId !== undefined) {
        where.push('endpoint_id = ?');
        params.push(filter.endpointId);
      }
      if (filter.since !== undefined) {
        where.push('submitted_ms >= ?');
        params.push(Date.parse(filter.since));
      }
      if (filter.before !== undefined) {
        where.push('submitted_ms < ?');
        params.push(Date.parse(filter.before));
      }
      let sql = 'SELECT request_id, record FROM requests';
      if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
      sql += ' ORDER BY submitted_ms, request_id';
      if (filter.limit !== undefined) {
        sql += ' LIMIT ?';
        params.push(Math.max(0, Math.floor(filter.limit)));
      }
      let rows: Row[] = [];
      try {
        rows = database.prepare(sql).all(...params) as Row[];
      } catch (error) {
        fail('list', error);
      }
      return rows.map((row) => parseRow(row, 'list'));
    },

    async search(query: HistoryQuery): Promise<PendingRecord[]> {
      const database = open('search');
      const planned = historySql(query);
      if (!planned) return [];
      let rows: Row[] = [];
      try {
        rows = database.prepare(planned.sql).all(...planned.params) as Row[];
      } catch (error) {
        fail('search', error);
      }
      return rows.map((row) => parseRow(row, 'search'));
    },

    async update(
      requestId: string,
      patch: PendingPatch,
      condition?: UpdateCondition,
    ): Promise<UpdateOutcome> {
      return atomically<UpdateOutcome>('update', requestId, (current) => {
        const outcome = planUpdate(current, patch, condition, redactor);
        return outcome.kind === 'updated'
          ? { result: outcome, write: outcome.record }
          : { result: outcome };
      });
    },

    async remove(requestId: string): Promise<boolean> {
      open('remove');
      try {
        return (statements?.remove.run(requestId).changes ?? 0) > 0;
      } catch (error) {
        return fail('remove', error);
      }
    },

    async claim(requestId: string, owner: string, ttlMs: number): Promise<ClaimOutcome> {
      return atomically<ClaimOutcome>('claim', requestId, (current) => {
        const outcome = planClaim(current, owner, ttlMs);
        return outcome.kind === 'claimed'
          ? { result: outcome, write: outcome.record }
          : { result: outcome };
      });
    },

    async renew(requestId: string, owner: string, ttlMs: number): Promise<boolean> {
      return atomically('renew', requestId, (current) => {
        const next = planRenew(current, owner, ttlMs);
        return { result: next !== undefined, ...(next ? { write: next } : {}) };
      });
    },

    async release(requestId: string, owner: string): Promise<boolean> {
      return atomically('release', requestId, (current) => {
        const next = planRelease(current, owner);
        return { result: next !== undefined, ...(next ? { write: next } : {}) };
      });
    },

    async close(): Promise<void> {
      closed = true;
      db?.close();
      db = undefined;
    },
  };
}

/** A budget row as an entry; damage (a state or amount SQLite's checks let through) is corrupt. */
function budgetEntryOf(
  row: BudgetRow,
  at: { store: string; operation: string; location: string },
): BudgetEntry {
  if (!Number.isSafeInteger(row.micros) || row.micros < 0) {
    throw corruptError(at, `a budget entry holds ${String(row.micros)} micro-dollars`);
  }
  if (row.state === 'settled') return { state: 'settled', micros: row.micros };
  if (row.state === 'reserved' && Number.isSafeInteger(row.expires_ms)) {
    return { state: 'reserved', micros: row.micros, expiresAt: row.expires_ms as number };
  }
  throw corruptError(at, `a budget entry in state ${JSON.stringify(row.state)} without expiry`);
}

/** Writes one budget change: the scope's retention and running spend, then the entry. */
function applyBudgetChange(
  database: Database,
  change: BudgetChange,
  before: BudgetEntry | undefined,
): void {
  const settled = (entry: BudgetEntry | null | undefined) =>
    entry?.state === 'settled' ? entry.micros : 0;
  const delta = settled(change.entry) - settled(before);
  statement(
    database,
    `INSERT INTO budget_scopes (scope, retain_until_ms, spent_micros) VALUES (?, ?, ?)
       ON CONFLICT (scope) DO UPDATE SET
         retain_until_ms = MAX(retain_until_ms, excluded.retain_until_ms),
         spent_micros = spent_micros + ?`,
  ).run(change.scope, change.retainUntil, Math.max(0, delta), delta);
  if (change.entry === null) {
    statement(database, 'DELETE FROM budget_entries WHERE scope = ? AND request_key = ?').run(
      change.scope,
      change.requestKey,
    );
    return;
  }
  statement(
    database,
    `INSERT INTO budget_entries (scope, request_key, state, micros, expires_ms)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (scope, request_key) DO UPDATE SET
         state = excluded.state, micros = excluded.micros, expires_ms = excluded.expires_ms`,
  ).run(
    change.scope,
    change.requestKey,
    change.entry.state,
    change.entry.micros,
    change.entry.state === 'reserved' ? change.entry.expiresAt : null,
  );
}

const prepared = new WeakMap<Database, Map<string, Statement>>();

/** A prepared statement of `database`, prepared once per connection. */
function statement(database: Database, sql: string): Statement {
  let cache = prepared.get(database);
  if (!cache) {
    cache = new Map();
    prepared.set(database, cache);
  }
  let found = cache.get(sql);
  if (!found) {
    found = database.prepare(sql);
    cache.set(sql, found);
  }
  return found;
}
