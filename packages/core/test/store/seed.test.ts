import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isSeedPendingFile, migrateSeedPending, parsePendingRecord } from '../../src/internal.js';

const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
const dataUri = `data:image/png;base64,${png.toString('base64')}`;

/** A pending file as the seed's fal_client.py v1.0.2 wrote it. */
const seedFile = {
  requests: [
    {
      request_id: 'a1b2c3d4-0000-4000-8000-000000000001',
      model_id: 'fal-ai/flux/dev/image-to-image',
      input: {
        prompt: 'a cat',
        image_url: dataUri,
        strength: 0.8,
        image_urls: ['https://x.io/a.png'],
      },
      status: 'IN_QUEUE',
      submitted_at: '2026-02-27T09:15:02.123456',
      updated_at: '2026-02-27T09:15:02.123456',
      queue_position: 3,
    },
    {
      request_id: 'a1b2c3d4-0000-4000-8000-000000000002',
      model_id: 'fal-ai/kling-video/o3/pro/video-to-video/edit',
      input: { prompt: 'rain', video_url: 'https://x.io/in.mp4' },
      status: 'IN_PROGRESS',
      submitted_at: '2026-02-27T09:20:00',
      updated_at: '2026-02-27T09:25:00',
      error: 'HTTPSConnectionPool: Read timed out.',
    },
    {
      request_id: 'a1b2c3d4-0000-4000-8000-000000000003',
      model_id: 'fal-ai/veo3',
      input: { prompt: 'x' },
      status: 'FAILED',
      submitted_at: '2026-02-27T08:00:00',
      updated_at: '2026-02-27T08:01:00',
      error: { detail: 'runner disconnected' },
      note: 'kept by hand',
    },
    {
      request_id: 'a1b2c3d4-0000-4000-8000-000000000004',
      model_id: 'fal-ai/flux/dev',
      input: { prompt: 'y' },
      status: 'SOMETHING_NEW',
      submitted_at: 'garbage',
      updated_at: null,
    },
    { model_id: 'fal-ai/flux/dev', status: 'IN_QUEUE' },
  ],
};

describe('seed pending file migration', () => {
  it('recognises the seed shape and not falai’s own', () => {
    expect(isSeedPendingFile(seedFile)).toBe(true);
    expect(isSeedPendingFile({ requests: [] })).toBe(true);
    expect(isSeedPendingFile({ version: 2, requests: [] })).toBe(false);
    expect(isSeedPendingFile([])).toBe(false);
    expect(isSeedPendingFile({ requests: [1] })).toBe(false);
  });

  it('migrates every request id, with Z timestamps and no base64', () => {
    const now = new Date('2026-03-01T00:00:00.000Z');
    const { records, warnings } = migrateSeedPending(structuredClone(seedFile), { now });
    expect(records.map((r) => r.requestId)).toEqual(
      seedFile.requests.slice(0, 4).map((r) => r.request_id),
    );
    for (const record of records) {
      expect(parsePendingRecord(record)).toEqual(record);
      expect(record.tags?.origin).toBe('seed');
    }
    const [first, second, third, fourth] = records;
    expect(first).toMatchObject({
      endpointId: 'fal-ai/flux/dev/image-to-image',
      status: 'queued',
      queuePosition: 3,
      submittedAt: '2026-02-27T09:15:02.123456Z',
    });
    expect(first?.input?.fields).toEqual({
      prompt: 'a cat',
      image_url: '<file image_url>',
      strength: 0.8,
      image_urls: ['<file image_urls.0>'],
    });
    expect(first?.input?.files).toEqual([
      {
        field: 'image_url',
        kind: 'data-uri',
        digest: `sha256:${createHash('sha256').update(png).digest('hex')}`,
        size: png.length,
        mime: 'image/png',
        sentAs: 'data-uri',
      },
      { field: 'image_urls.0', kind: 'url', location: 'https://x.io/a.png', sentAs: 'url' },
    ]);
    expect(JSON.stringify(records)).not.toContain(png.toString('base64'));
    // A poll exception on a pending entry is not a failure.
    expect(second?.status).toBe('running');
    expect(second?.error).toBeUndefined();
    expect(second?.tags?.seedLastError).toContain('Read timed out');
    expect(second?.attempts.errors).toBe(1);
    expect(third).toMatchObject({
      status: 'failed',
      error: { code: 'REQUEST_FAILED', message: 'runner disconnected' },
      tags: { origin: 'seed', 'seed.note': 'kept by hand' },
    });
    expect(fourth).toMatchObject({
      status: 'queued',
      submittedAt: now.toISOString(),
      tags: { seedStatus: 'SOMETHING_NEW', seedSubmittedAt: 'garbage' },
    });
    expect(warnings).toEqual([
      expect.stringContaining('SOMETHING_NEW'),
      expect.stringContaining('no usable submitted_at'),
      expect.stringContaining('requests[4] has no request_id'),
    ]);
  });

  it('keeps the later of two entries with one id, and says so', () => {
    const { records, warnings } = migrateSeedPending({
      requests: [
        {
          request_id: 'dup',
          model_id: 'm/a',
          status: 'IN_QUEUE',
          submitted_at: '2026-01-01T00:00:00',
        },
        {
          request_id: 'dup',
          model_id: 'm/a',
          status: 'COMPLETED',
          result: { ok: 1 },
          submitted_at: '2026-01-01T00:00:00',
        },
      ],
    });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 'completed', result: { ok: 1 } });
    expect(warnings).toEqual([expect.stringContaining('repeats request dup')]);
  });

  it('never keeps a FAL_KEY that was pasted into an input', () => {
    const saved = process.env.FAL_KEY;
    process.env.FAL_KEY = 'seedkeyid-1234:seedsecret-abcdefgh';
    try {
      const { records } = migrateSeedPending({
        requests: [
          {
            request_id: 'k',
            model_id: 'm/a',
            status: 'IN_QUEUE',
            input: { prompt: 'key seedkeyid-1234:seedsecret-abcdefgh' },
          },
        ],
      });
      expect(JSON.stringify(records)).not.toContain('seedsecret-abcdefgh');
    } finally {
      if (saved === undefined) delete process.env.FAL_KEY;
      else process.env.FAL_KEY = saved;
    }
  });
});
