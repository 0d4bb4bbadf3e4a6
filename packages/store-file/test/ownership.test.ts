import { chmod, lstat, mkdir, readdir, readFile, readlink, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { minimalRecord, useTempDir } from '@falai/store-conformance';
import { describe, expect, it } from 'vitest';
import { createFileStore } from '../src/index.js';

/** Every write path of the store: a first write, journal appends, and a snapshot rewrite. */
async function writeEverything(path: string, label: string): Promise<string[]> {
  const store = createFileStore({ path });
  const ids: string[] = [];
  for (let n = 0; n < 5; n++) {
    const record = minimalRecord({ requestId: `${label}-${n}` });
    await store.put(record);
    ids.push(record.requestId);
  }
  await store.update(ids[0] ?? '', { status: 'running' });
  await store.remove(ids[4] ?? '');
  await store.compact();
  const extra = minimalRecord({ requestId: `${label}-after` });
  await store.put(extra);
  await store.close();
  return [...ids.slice(0, 4), extra.requestId];
}

describe('file store: files it does not own are left as they were', () => {
  const tmp = useTempDir('store-file-own');

  it('a symlinked store file stays a symlink; the data goes to its target', async () => {
    const real = join(tmp.dir, 'real');
    const links = join(tmp.dir, 'links');
    await mkdir(real);
    await mkdir(links);
    const target = join(real, 'pending.json');
    const seed = createFileStore({ path: target });
    await seed.put(minimalRecord({ requestId: 'before-link' }));
    await seed.close();
    const link = join(links, 'pending.json');
    await symlink('../real/pending.json', link);

    const ids = await writeEverything(link, 'via-link');

    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe('../real/pending.json');
    // Nothing of the store landed beside the link: the journal and lock live by the target.
    expect(await readdir(links)).toEqual(['pending.json']);
    const direct = createFileStore({ path: target });
    expect((await direct.list()).map((r) => r.requestId).sort()).toEqual(
      ['before-link', ...ids].sort(),
    );
    await direct.close();
    expect(JSON.parse(await readFile(target, 'utf8')).requests.length).toBeGreaterThan(0);
  });

  it('a dangling symlink is written through, not replaced', async () => {
    const dir = join(tmp.dir, 'dangling');
    await mkdir(join(dir, 'data'), { recursive: true });
    const link = join(dir, 'pending.json');
    await symlink('data/store.json', link);
    const ids = await writeEverything(link, 'dangling');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    const direct = createFileStore({ path: join(dir, 'data', 'store.json') });
    expect((await direct.list()).map((r) => r.requestId).sort()).toEqual(ids.sort());
    await direct.close();
  });

  it('an existing file keeps its mode through appends and rewrites', async () => {
    const path = join(tmp.dir, 'shared.json');
    const first = createFileStore({ path });
    await first.put(minimalRecord({ requestId: 'shared-0' }));
    await first.close();
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await chmod(path, 0o640);

    await writeEverything(path, 'shared');

    expect((await stat(path)).mode & 0o777).toBe(0o640);
    const journals = (await readdir(tmp.dir)).filter(
      (name) => name.startsWith('shared.json.') && name.endsWith('.journal'),
    );
    expect(journals).toHaveLength(1);
    expect((await stat(join(tmp.dir, journals[0] ?? ''))).mode & 0o777).toBe(0o640);
  });

  it('a read-only store file is refused with STORE_ERROR and left untouched', async () => {
    const path = join(tmp.dir, 'readonly.json');
    const first = createFileStore({ path });
    await first.put(minimalRecord({ requestId: 'kept' }));
    await first.close();
    await chmod(path, 0o444);
    const before = await readFile(path);
    const beforeNames = (await readdir(tmp.dir)).filter((n) => n.startsWith('readonly.json'));

    const store = createFileStore({ path });
    expect((await store.list()).map((r) => r.requestId)).toEqual(['kept']);
    for (const write of [
      () => store.put(minimalRecord({ requestId: 'refused' })),
      () => store.update('kept', { status: 'running' }),
      () => store.remove('kept'),
    ]) {
      await expect(write()).rejects.toMatchObject({
        code: 'STORE_ERROR',
        message: expect.stringMatching(/is read-only \(mode 0444\).*chmod u\+w/),
      });
    }
    await store.close();
    expect(await readFile(path)).toEqual(before);
    expect((await stat(path)).mode & 0o777).toBe(0o444);
    expect((await readdir(tmp.dir)).filter((n) => n.startsWith('readonly.json'))).toEqual(
      beforeNames,
    );
  });
});
