import type { Database } from 'better-sqlite3';
import { createHistoryIndex } from './history.js';

/** One step of the schema; `user_version` records the last step applied. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly up: (db: Database) => void;
}

/**
 * The schema history, oldest first. Never edit a released step: append a new one. Each runs
 * inside the same `BEGIN IMMEDIATE` transaction as the `user_version` bump, so a crash or a
 * second process can never apply half of it.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'requests table: the record as JSON plus the columns lists filter on',
    up: (db) => {
      db.exec(`CREATE TABLE requests (
        request_id   TEXT PRIMARY KEY,
        endpoint_id  TEXT NOT NULL,
        status       TEXT NOT NULL,
        submitted_at TEXT NOT NULL,
        record       TEXT NOT NULL
      )`);
    },
  },
  {
    version: 2,
    description: 'order by instant (epoch ms) and index status, endpoint and submission time',
    up: (db) => {
      db.exec('ALTER TABLE requests ADD COLUMN submitted_ms INTEGER');
      const rows = db.prepare('SELECT request_id, submitted_at FROM requests').all() as {
        request_id: string;
        submitted_at: string;
      }[];
      const set = db.prepare('UPDATE requests SET submitted_ms = ? WHERE request_id = ?');
      for (const row of rows) {
        const ms = Date.parse(row.submitted_at);
        set.run(Number.isNaN(ms) ? 0 : ms, row.request_id);
      }
      db.exec(`
        CREATE INDEX requests_by_time     ON requests (submitted_ms, request_id);
        CREATE INDEX requests_by_status   ON requests (status, submitted_ms, request_id);
        CREATE INDEX requests_by_endpoint ON requests (endpoint_id, submitted_ms, request_id);
      `);
    },
  },
  {
    version: 3,
    description: 'budget ledger: scopes (running settled spend, retention) and their entries',
    up: (db) => {
      db.exec(`
        CREATE TABLE budget_scopes (
          scope           TEXT PRIMARY KEY,
          retain_until_ms INTEGER NOT NULL,
          spent_micros    INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX budget_scopes_by_retention ON budget_scopes (retain_until_ms);
        CREATE TABLE budget_entries (
          scope       TEXT NOT NULL,
          request_key TEXT NOT NULL,
          state       TEXT NOT NULL CHECK (state IN ('reserved', 'settled')),
          micros      INTEGER NOT NULL CHECK (micros >= 0),
          expires_ms  INTEGER,
          PRIMARY KEY (scope, request_key)
        ) WITHOUT ROWID;
        CREATE INDEX budget_entries_by_state ON budget_entries (scope, state, expires_ms);
      `);
    },
  },
  {
    version: 4,
    description: 'history: an FTS5 index of prompts, kept by triggers (falai history search)',
    up: createHistoryIndex,
  },
];

/** The tables falai creates; an index of one of them is named `<table>_by_<what>`. */
export const FALAI_TABLES: readonly string[] = ['requests', 'budget_scopes', 'budget_entries'];

/**
 * falai's mark in the database header (`PRAGMA application_id`, "fala" in ASCII): a database
 * without it is only adopted when it holds nothing but falai's own table.
 */
export const FALAI_APPLICATION_ID = 0x66616c61;

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
