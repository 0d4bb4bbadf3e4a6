import { mkdtempSync } from 'node:fs';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describeStoreConformance, minimalRecord, randomId } from '@falai/store-conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileStore, FILE_FORMAT_VERSION } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'falai-store-file-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Every file that belongs to the store (data, temp files, backups), as one string. */
async function rawBytes(path: string): Promise<string> {
  const names = (await readdir(dirname(path))).filter((n) => n.startsWith(basename(path)));
  const parts = await Promise.all(
    names.map(async (n) => {
      const full = join(dirname(path), n);
      return (await stat(full)).isFile() ? readFile(full, 'latin1') : '';
    }),
  );
  return parts.join('\n');
}

describeStoreConformance({
  name: 'file',
  create: async (options) =>
    createFileStore({ path: join(dir, randomId('s'), 'pending.json'), ...options }),
  reopen: async (previous) => createFileStore({ path: previous.location }),
  rawBytes: (store) => rawBytes(store.location),
  corrupt: async (store) => {
    const text = await readFile(store.location, 'utf8');
    await writeFile(store.location, text.slice(0, Math.floor(text.length / 2)));
    return { location: store.location };
  },
  extra: (getStore) => {
    it('writes the file 0600 in a 0700 directory, with the seed-compatible shape', async () => {
      const store = getStore();
      await store.put(minimalRecord());
      expect((await stat(store.location)).mode & 0o777).toBe(0o600);
      expect((await stat(dirname(store.location))).mode & 0o777).toBe(0o700);
      const json = JSON.parse(await readFile(store.location, 'utf8'));
      expect(json.version).toBe(FILE_FORMAT_VERSION);
      expect(json.requests).toHaveLength(1);
    });

    it('an invalid record inside valid JSON is STORE_CORRUPT naming the entry', async () => {
      const store = getStore();
      const record = minimalRecord();
      await store.put(record);
      const json = JSON.parse(await readFile(store.location, 'utf8'));
      json.requests[0].status = 'IN_QUEUE';
      const damaged = JSON.stringify(json);
      await writeFile(store.location, damaged);
      await expect(store.list()).rejects.toMatchObject({
        code: 'STORE_CORRUPT',
        message: expect.stringContaining(`requests[0], request ${record.requestId}`),
      });
      await expect(store.put(minimalRecord())).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
      expect(await readFile(store.location, 'utf8')).toBe(damaged);
    });

    it('a file from a newer falai is refused, not rewritten', async () => {
      const store = getStore();
      await store.put(minimalRecord());
      await writeFile(store.location, '{"version":9,"requests":[]}');
      await expect(store.list()).rejects.toMatchObject({
        code: 'STORE_ERROR',
        message: expect.stringContaining('newer falai'),
      });
    });

    it('sees writes made by another store object on the same file', async () => {
      const store = getStore();
      const other = createFileStore({ path: store.location });
      const record = minimalRecord({ requestId: randomId('other') });
      await store.list();
      await other.put(record);
      expect(await store.get(record.requestId)).toEqual(record);
      await other.close();
    });
  },
});

describe('file store group commit', () => {
  it('concurrent writes share one write but keep their own outcomes', async () => {
    const store = createFileStore({ path: join(dir, randomId('gc'), 'pending.json') });
    const a = minimalRecord({ status: 'running' });
    await store.put(a);
    const results = await Promise.allSettled([
      store.update(a.requestId, { status: 'completed' }, { status: 'running' }),
      store.update(a.requestId, { status: 'bogus' as never }),
      store.update(a.requestId, { status: 'failed' }, { status: 'running' }),
      store.put(minimalRecord({ requestId: 'b' })),
      store.remove('missing'),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
    expect(results[0]).toMatchObject({ value: { kind: 'updated' } });
    expect(results[1]).toMatchObject({ reason: { code: 'STORE_ERROR' } });
    expect(results[2]).toMatchObject({ value: { kind: 'conflict' } });
    expect(results[4]).toMatchObject({ value: false });
    await store.close();
    const reopened = createFileStore({ path: store.location });
    expect((await reopened.list()).map((r) => [r.requestId, r.status])).toEqual(
      [
        [a.requestId, 'completed'],
        ['b', 'queued'],
      ].sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : 1)),
    );
    await reopened.close();
  });
});
