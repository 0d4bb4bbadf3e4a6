import { join } from 'node:path';
import { minimalRecord, useTempDir } from '@falai/store-conformance';
import { describe, expect, it } from 'vitest';
import { createFileStore } from '../src/index.js';

describe('file store with 10,000 records', () => {
  const tmp = useTempDir('store-file-scale');

  it('stores, lists, filters, updates and reopens 10,000 records', async () => {
    const path = join(tmp.dir, 'pending.json');
    const store = createFileStore({ path });
    const base = Date.parse('2026-01-01T00:00:00.000Z');
    const records = Array.from({ length: 10_000 }, (_, n) =>
      minimalRecord({
        requestId: `r-${String(n).padStart(5, '0')}`,
        submittedAt: new Date(base + (9_999 - n) * 1000).toISOString(),
        status: n % 4 === 0 ? 'completed' : 'queued',
        endpointId: n % 2 === 0 ? 'fal-ai/flux/dev' : 'fal-ai/veo3',
      }),
    );
    await store.putMany(records.slice(0, 9_990));
    for (const record of records.slice(9_990)) await store.put(record);
    const all = await store.list();
    expect(all).toHaveLength(10_000);
    expect(all[0]?.requestId).toBe('r-09999');
    expect(all[9_999]?.requestId).toBe('r-00000');
    expect(await store.list({ status: 'completed' })).toHaveLength(2_500);
    expect(await store.list({ endpointId: 'fal-ai/veo3', status: 'queued' })).toHaveLength(5_000);
    const outcome = await store.update('r-05000', { status: 'running' }, { status: 'completed' });
    expect(outcome.kind).toBe('updated');
    await store.close();
    const reopened = createFileStore({ path });
    expect(await reopened.list()).toHaveLength(10_000);
    expect((await reopened.get('r-05000'))?.status).toBe('running');
    await reopened.close();
  }, 120_000);
});
