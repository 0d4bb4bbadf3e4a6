import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { minimalRecord, useTempDir } from '@falai/store-conformance';
import { describe, expect, it } from 'vitest';
import { createFileStore } from '../src/index.js';

async function journals(dir: string, base: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((name) => name.startsWith(`${base}.`) && name.endsWith('.journal'))
    .map((name) => join(dir, name));
}

const generationOf = async (path: string): Promise<string> =>
  JSON.parse(await readFile(path, 'utf8')).generation;

describe('file store journal', () => {
  const tmp = useTempDir('store-file-journal');

  it('appends one line per write and folds the journal into the snapshot as it grows', async () => {
    const path = join(tmp.dir, 'grow.json');
    const store = createFileStore({ path, compactBytes: 4096 });
    await store.put(minimalRecord({ requestId: 'first' }));
    const firstGeneration = await generationOf(path);
    await store.put(minimalRecord({ requestId: 'second' }));
    const [journal] = await journals(tmp.dir, 'grow.json');
    expect((await readFile(journal ?? '', 'utf8')).trim().split('\n')).toHaveLength(1);
    // The snapshot did not change for the append.
    expect(await generationOf(path)).toBe(firstGeneration);
    for (let n = 0; n < 60; n++) await store.put(minimalRecord({ requestId: `r-${n}` }));
    expect(await generationOf(path)).not.toBe(firstGeneration);
    // Journals of older snapshots are removed once folded.
    expect(await journals(tmp.dir, 'grow.json')).toHaveLength(1);
    await store.close();
    const reopened = createFileStore({ path });
    expect(await reopened.list()).toHaveLength(62);
    await reopened.close();
  });

  it('ignores a torn tail (a writer killed mid-append) and writes on after it', async () => {
    const path = join(tmp.dir, 'torn.json');
    const store = createFileStore({ path });
    for (const id of ['a', 'b', 'c']) await store.put(minimalRecord({ requestId: id }));
    const [journal] = await journals(tmp.dir, 'torn.json');
    await appendFile(
      journal ?? '',
      `{"g":"${await generationOf(path)}","n":3,"id":"x","put":[{"req`,
    );
    const other = createFileStore({ path });
    expect((await other.list()).map((r) => r.requestId)).toEqual(['a', 'b', 'c']);
    await other.put(minimalRecord({ requestId: 'd' }));
    await other.update('a', { status: 'running' });
    await other.close();
    const reopened = createFileStore({ path });
    expect((await reopened.list()).map((r) => [r.requestId, r.status])).toEqual([
      ['a', 'running'],
      ['b', 'queued'],
      ['c', 'queued'],
      ['d', 'queued'],
    ]);
    await reopened.close();
    await store.close();
  });

  it('a damaged committed line is STORE_CORRUPT naming the journal, and nothing is written', async () => {
    const path = join(tmp.dir, 'damaged.json');
    const store = createFileStore({ path });
    for (const id of ['a', 'b', 'c', 'd']) await store.put(minimalRecord({ requestId: id }));
    await store.close();
    const [journal] = await journals(tmp.dir, 'damaged.json');
    const lines = (await readFile(journal ?? '', 'utf8')).split('\n');
    // Line 2 of 3 loses its closing brace: the line after it counts it, so it was committed.
    lines[1] = (lines[1] ?? '').slice(0, -1);
    const damaged = lines.join('\n');
    await writeFile(journal ?? '', damaged);
    const reader = createFileStore({ path });
    await expect(reader.list()).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
      message: expect.stringContaining(journal ?? ''),
    });
    await expect(reader.put(minimalRecord({ requestId: 'e' }))).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
    });
    await reader.close();
    expect(await readFile(journal ?? '', 'utf8')).toBe(damaged);
  });

  it('a line counted from an older file (its writer had lost the lock) counts for no reader', async () => {
    const path = join(tmp.dir, 'stale.json');
    const store = createFileStore({ path });
    for (const id of ['a', 'b']) await store.put(minimalRecord({ requestId: id }));
    const [journal] = await journals(tmp.dir, 'stale.json');
    const ghost = JSON.stringify(minimalRecord({ requestId: 'ghost' }));
    // A writer that read the file before line 1 was appended also wrote "line 1".
    await appendFile(
      journal ?? '',
      `{"g":"${await generationOf(path)}","n":1,"id":"late","put":[${ghost}],"del":["a"]}\n`,
    );
    const other = createFileStore({ path });
    expect((await other.list()).map((r) => r.requestId)).toEqual(['a', 'b']);
    await other.put(minimalRecord({ requestId: 'c' }));
    await other.close();
    await store.close();
    const reopened = createFileStore({ path });
    expect((await reopened.list()).map((r) => r.requestId)).toEqual(['a', 'b', 'c']);
    await reopened.close();
  });
});
