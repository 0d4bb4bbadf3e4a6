import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeSearchConformance, minimalRecord, randomId } from '@falai/store-conformance';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../src/index.js';
import { MIGRATIONS } from '../src/migrations.js';

const dir = mkdtempSync(join(tmpdir(), 'falai-store-sqlite-search-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describeSearchConformance({
  name: 'sqlite (file)',
  create: async () => createSqliteStore({ path: join(dir, randomId('db'), 'pending.db') }),
  reopen: async (previous) => createSqliteStore({ path: previous.location }),
});

describeSearchConformance({
  name: 'sqlite (:memory:)',
  create: async () => createSqliteStore({ path: ':memory:' }),
});

describe('sqlite history index', () => {
  it('indexes the records of a database made before the index existed (migration 4)', async () => {
    const path = join(dir, randomId('old'), 'pending.db');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(path, '..'), { recursive: true });
    // A database at schema 3, written by a falai without the history index.
    const db = new Database(path);
    for (const step of MIGRATIONS.filter((m) => m.version <= 3)) step.up(db);
    db.pragma('user_version = 3');
    db.pragma('application_id = 1717660769');
    const record = minimalRecord({
      input: { fields: { prompt: 'an older lighthouse' }, files: [] },
    });
    db.prepare(
      'INSERT INTO requests (request_id, endpoint_id, status, submitted_at, submitted_ms, record) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(
      record.requestId,
      record.endpointId,
      record.status,
      record.submittedAt,
      Date.parse(record.submittedAt),
      JSON.stringify(record),
    );
    db.close();
    const store = createSqliteStore({ path });
    try {
      expect((await store.search?.({ text: 'lighthouse' }))?.map((r) => r.requestId)).toEqual([
        record.requestId,
      ]);
    } finally {
      await store.close();
    }
  });

  it('a damaged row written behind the store never blocks the write, and is never found', async () => {
    const store = createSqliteStore({ path: join(dir, randomId('db'), 'pending.db') });
    try {
      const record = minimalRecord({ input: { fields: { prompt: 'to be torn' }, files: [] } });
      await store.put(record);
      const db = new Database(store.location);
      db.pragma('busy_timeout = 5000');
      db.prepare('UPDATE requests SET record = ? WHERE request_id = ?').run(
        '{"requestId": "torn',
        record.requestId,
      );
      db.close();
      expect(await store.search?.({ text: 'torn' })).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('walks the time index newest first (no sort of every match)', async () => {
    const store = createSqliteStore({ path: join(dir, randomId('db'), 'pending.db') });
    try {
      await store.put(minimalRecord({ input: { fields: { prompt: 'plan' }, files: [] } }));
      const { historySql } = await import('../src/history.js');
      const planned = historySql({ text: 'plan', limit: 50 });
      const db = new Database(store.location, { readonly: true });
      const plan = (
        db.prepare(`EXPLAIN QUERY PLAN ${planned?.sql}`).all(...(planned?.params ?? [])) as {
          detail: string;
        }[]
      )
        .map((row) => row.detail)
        .join(' | ');
      db.close();
      expect(plan).toContain('USING INDEX requests_by_time');
      expect(plan).not.toContain('TEMP B-TREE');
    } finally {
      await store.close();
    }
  });
});
