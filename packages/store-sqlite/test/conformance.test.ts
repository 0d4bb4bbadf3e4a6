import { mkdtempSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStoreConformance, minimalRecord, randomId } from '@falai/store-conformance';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { createSqliteStore, SCHEMA_VERSION } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'falai-store-sqlite-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The database and its WAL, as text: what a secret scan must search. */
async function rawBytes(path: string): Promise<string> {
  const parts: string[] = [];
  for (const suffix of ['', '-wal', '-journal']) {
    try {
      parts.push(await readFile(`${path}${suffix}`, 'latin1'));
    } catch {
      // absent
    }
  }
  return parts.join('\n');
}

/** Changes a row's JSON behind the store's back, through a second connection. */
function damageRow(path: string, requestId: string, json: string): void {
  const db = new Database(path);
  db.pragma('busy_timeout = 5000');
  db.prepare('UPDATE requests SET record = ? WHERE request_id = ?').run(json, requestId);
  db.close();
}

describeStoreConformance({
  name: 'sqlite (file)',
  create: async (options) =>
    createSqliteStore({ path: join(dir, randomId('db'), 'pending.db'), ...options }),
  reopen: async (previous) => createSqliteStore({ path: previous.location }),
  rawBytes: (store) => rawBytes(store.location),
  corrupt: async (store, requestId) => {
    damageRow(store.location, requestId, '{"requestId": "torn');
    return { location: `${store.location} (request ${requestId})` };
  },
  extra: (getStore) => {
    it('a row that is valid JSON but not a record is STORE_CORRUPT naming the row', async () => {
      const store = getStore();
      const record = minimalRecord();
      await store.put(record);
      damageRow(store.location, record.requestId, JSON.stringify({ ...record, attempts: 3 }));
      await expect(store.get(record.requestId)).rejects.toMatchObject({
        code: 'STORE_CORRUPT',
        message: expect.stringContaining(`request ${record.requestId}`),
      });
    });

    it('uses WAL and the configured busy timeout', async () => {
      const store = getStore();
      await store.put(minimalRecord());
      const db = new Database(store.location, { readonly: true });
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      db.close();
    });
  },
});

describeStoreConformance({
  name: 'sqlite (:memory:)',
  create: async (options) => createSqliteStore({ path: ':memory:', ...options }),
  persistsNothing: 'a private in-memory database',
});
