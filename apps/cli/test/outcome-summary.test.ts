import { randomBytes } from 'node:crypto';
import { createMemoryStore } from '@falai/core';
import { newPendingRecord, recordOutcome } from '@falai/core/internal';
import { describe, expect, it } from 'vitest';

describe('finalising a polled request', () => {
  it('stores a bounded summary, never the inline data URIs of the output', async () => {
    const store = createMemoryStore();
    await store.put(
      newPendingRecord({ requestId: 'sync-1', endpointId: 'fal-ai/nano-banana-pro' }),
    );
    const bytes = randomBytes(4 * 1024 * 1024);
    const output = {
      images: [{ url: `data:image/png;base64,${bytes.toString('base64')}` }],
      timings: { inference: 1.5 },
    };
    const updated = await recordOutcome(store, 'sync-1', {
      state: 'completed',
      requestId: 'sync-1',
      endpointId: 'fal-ai/nano-banana-pro',
      output,
    });
    expect(updated.kind).toBe('updated');
    const record = await store.get('sync-1');
    expect(JSON.stringify(record)).not.toContain('base64');
    expect(record?.result).toMatchObject({
      images: [{ url: { $omitted: 'data-uri', mime: 'image/png', size: bytes.length } }],
      timings: { inference: 1.5 },
    });
  });
});
