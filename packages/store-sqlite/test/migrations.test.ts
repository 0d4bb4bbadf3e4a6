import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fullRecord, minimalRecord, useTempDir } from '@falai/store-conformance';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createSqliteStore, MIGRATIONS, SCHEMA_VERSION } from '../src/index.js';

describe('sqlite schema migrations', () => {
  const tmp = useTempDir('store-sqlite-mig');

  it('upgrades a version-1 database in place, keeping its rows', async () => {
    const path = join(tmp.dir, 'v1.db');
    const late = fullRecord({ requestId: 'late', submittedAt: '2026-03-01T12:00:00.000+02:00' });
    const early = minimalRecord({ requestId: 'early', submittedAt: '2026-03-01T10:30:00.000Z' });
    // A database as version 1 left it: no submitted_ms column, no indexes.
    const raw = new Database(path);
    MIGRATIONS[0]?.up(raw);
    raw.pragma('user_version = 1');
    const insert = raw.prepare(
      'INSERT INTO requests (request_id, endpoint_id, status, submitted_at, record) VALUES (?, ?, ?, ?, ?)',
    );
    for (const r of [late, early]) {
      insert.run(r.requestId, r.endpointId, r.status, r.submittedAt, JSON.stringify(r));
    }
    raw.close();

    const store = createSqliteStore({ path });
    // 12:00+02:00 is 10:00Z, before 10:30Z: order follows the backfilled instants.
    expect((await store.list()).map((r) => r.requestId)).toEqual(['late', 'early']);
    expect(await store.get('late')).toEqual(late);
    expect(await store.list({ since: '2026-03-01T10:15:00.000Z' })).toEqual([early]);
    await store.close();
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const indexes = check
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'requests'")
      .all()
      .map((row) => (row as { name: string }).name);
    expect(indexes).toEqual(expect.arrayContaining(['requests_by_time', 'requests_by_status']));
    check.close();
  });

  it('refuses a database from a newer falai without touching it', async () => {
    const path = join(tmp.dir, 'future.db');
    const raw = new Database(path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    raw.close();
    const store = createSqliteStore({ path });
    await expect(store.list()).rejects.toMatchObject({
      code: 'STORE_ERROR',
      message: expect.stringContaining('newer than this falai'),
    });
    await store.close();
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 5);
    check.close();
  });

  it('a file that is not a database is STORE_CORRUPT naming the path', async () => {
    const path = join(tmp.dir, 'garbage.db');
    await writeFile(path, 'this is not a database, it is a shopping list'.repeat(100));
    const store = createSqliteStore({ path });
    await expect(store.list()).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
      message: expect.stringContaining(path),
    });
    await store.close();
  });
});
