import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { minimalRecord, useTempDir } from '@falai/store-conformance';
import { describe, expect, it } from 'vitest';
import { createFileStore } from '../src/index.js';

/**
 * What an older falai left after storing two hostile ~290 MB results inline: a store file
 * bigger than the longest string V8 can hold. Reading it must end in a clear STORE_CORRUPT
 * naming the oversized entry (not `Invalid string length`), and change nothing.
 */
describe('file store: a file grown past what one string can hold', () => {
  const tmp = useTempDir('store-file-huge');

  it('is refused with STORE_CORRUPT naming the oversized record, not a crash', async () => {
    const path = join(tmp.dir, 'huge.json');
    const small = [minimalRecord({ requestId: 'ok-1' }), minimalRecord({ requestId: 'ok-2' })];
    const blob = Buffer.alloc(100 * 1024 * 1024, 'A');
    const handle = await open(path, 'w', 0o600);
    await handle.write('{"version":2,"requests":[\n');
    for (const record of small) await handle.write(`${JSON.stringify(record)},\n`);
    for (let n = 0; n < 6; n++) {
      const { attempts: _a, ...rest } = minimalRecord({ requestId: `huge-${n}` });
      const head = JSON.stringify(rest).slice(0, -1);
      await handle.write(`${head},"attempts":{"submit":1,"poll":0,"errors":0},"result":{"d":"`);
      await handle.write(blob);
      await handle.write(n === 5 ? '"}}\n' : '"}},\n');
    }
    await handle.write(']}\n');
    await handle.close();
    const size = (await stat(path)).size;
    // Past V8's longest string (2^29 - 24 characters): one readFile(…, 'utf8') cannot hold it.
    expect(size).toBeGreaterThan(2 ** 29);

    const store = createFileStore({ path });
    const error = await store.list().catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'STORE_CORRUPT',
      message: expect.stringContaining(`${path} (requests[2], request huge-0)`),
    });
    expect((error as Error).message).toMatch(/a record of 100 MB, over the 64 MB/);
    await expect(store.put(minimalRecord())).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    await store.close();
    expect((await stat(path)).size).toBe(size);
    const headBytes = (await readFile(path)).subarray(0, 30).toString('utf8');
    expect(headBytes.startsWith('{"version":2,"requests":[\n')).toBe(true);
  }, 120_000);
});
