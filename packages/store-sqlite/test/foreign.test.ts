import { createHash } from 'node:crypto';
import { chmod, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { minimalRecord, useTempDir } from '@falai/store-conformance';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createSqliteStore, FALAI_APPLICATION_ID, SCHEMA_VERSION } from '../src/index.js';

const digest = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

/** Everything about the file another application would notice falai changed. */
async function fingerprint(dir: string, path: string) {
  const st = await stat(path);
  return {
    digest: await digest(path),
    mode: st.mode & 0o777,
    mtimeMs: st.mtimeMs,
    files: (await readdir(dir)).sort(),
  };
}

describe('sqlite store: another application’s database', () => {
  const tmp = useTempDir('store-sqlite-foreign');

  it('changes nothing in it (no table, no WAL) and refuses with a clear STORE_ERROR', async () => {
    const dir = join(tmp.dir, 'app');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir);
    const path = join(dir, 'app.db');
    const app = new Database(path);
    app.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)');
    app.prepare('INSERT INTO users (name) VALUES (?)').run('ada');
    app.close();
    await chmod(path, 0o644);
    const before = await fingerprint(dir, path);

    const store = createSqliteStore({ path });
    for (const attempt of [() => store.list(), () => store.put(minimalRecord())]) {
      await expect(attempt()).rejects.toMatchObject({
        code: 'STORE_ERROR',
        message: expect.stringMatching(
          new RegExp(
            `^The SQLite database at ${path} is not a falai store: it holds table users, which ` +
              'falai did not create; falai changed nothing in it\\. Point --store / FALAI_STORE ' +
              'at a new file',
          ),
        ),
      });
    }
    await store.close();

    expect(await fingerprint(dir, path)).toEqual(before);
    const check = new Database(path, { readonly: true });
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete');
    expect(check.pragma('user_version', { simple: true })).toBe(0);
    const tables = check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
    expect(tables).toEqual([{ name: 'users' }]);
    check.close();
  });

  it('refuses a database marked by another application even when it is empty', async () => {
    const path = join(tmp.dir, 'marked.db');
    const app = new Database(path);
    app.pragma('application_id = 305419896');
    app.close();
    const before = await digest(path);
    const store = createSqliteStore({ path });
    await expect(store.get('x')).rejects.toMatchObject({
      code: 'STORE_ERROR',
      message: expect.stringContaining(
        'belongs to another application (application_id 0x12345678)',
      ),
    });
    await store.close();
    expect(await digest(path)).toBe(before);
  });

  it('marks its own databases, and adopts one from before the marker', async () => {
    const fresh = join(tmp.dir, 'fresh.db');
    const store = createSqliteStore({ path: fresh });
    await store.put(minimalRecord({ requestId: 'a' }));
    await store.close();
    expect((await stat(fresh)).mode & 0o777).toBe(0o600);
    const check = new Database(fresh, { readonly: true });
    expect(check.pragma('application_id', { simple: true })).toBe(FALAI_APPLICATION_ID);
    check.close();

    // A falai database written before the marker existed: falai's table only, no id.
    const legacy = join(tmp.dir, 'legacy.db');
    const raw = new Database(legacy);
    raw.exec(`CREATE TABLE requests (request_id TEXT PRIMARY KEY, endpoint_id TEXT NOT NULL,
      status TEXT NOT NULL, submitted_at TEXT NOT NULL, record TEXT NOT NULL)`);
    raw.pragma('user_version = 1');
    raw.close();
    const adopted = createSqliteStore({ path: legacy });
    await adopted.put(minimalRecord({ requestId: 'b' }));
    expect((await adopted.list()).map((r) => r.requestId)).toEqual(['b']);
    await adopted.close();
    const after = new Database(legacy, { readonly: true });
    expect(after.pragma('application_id', { simple: true })).toBe(FALAI_APPLICATION_ID);
    expect(after.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    after.close();
  });
});
