import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTempDir } from '@falai/store-conformance';
import { describe, expect, it } from 'vitest';
import { createFileStore, FILE_FORMAT_VERSION } from '../src/index.js';

const jpeg = Buffer.alloc(4096, 0xab);
const b64 = jpeg.toString('base64');

/** A seed `fal-pending.json` as fal_client.py v1.0.2 left it (pretty-printed, naive UTC). */
const seedText = JSON.stringify(
  {
    requests: [
      {
        request_id: '019c8f3e-seed-0001',
        model_id: 'fal-ai/nano-banana-pro/edit',
        input: {
          prompt: 'make it snow',
          image_urls: [`data:image/jpeg;base64,${b64}`, 'https://example.com/b.jpg'],
        },
        status: 'IN_QUEUE',
        submitted_at: '2026-02-20T18:02:11.532871',
        updated_at: '2026-02-20T18:02:11.532871',
      },
      {
        request_id: '019c8f3e-seed-0002',
        model_id: 'fal-ai/kling-video/v2.6/pro/image-to-video',
        input: { prompt: 'pan left', image_url: 'https://example.com/c.png', duration: '5' },
        status: 'IN_PROGRESS',
        submitted_at: '2026-02-20T17:00:00.000001',
        updated_at: '2026-02-20T17:04:00.000001',
        queue_position: 0,
      },
    ],
  },
  null,
  2,
);

describe('file store: migrating the seed fal-pending.json', () => {
  const tmp = useTempDir('store-file-seed');

  it('migrates on first open, keeps a backup, and drops the base64', async () => {
    const path = join(tmp.dir, 'fal-pending.json');
    await writeFile(path, seedText);
    await chmod(path, 0o644);
    const warnings: string[] = [];
    const store = createFileStore({ path, onWarning: (w) => warnings.push(w) });

    const records = await store.list();
    expect(records.map((r) => r.requestId)).toEqual(['019c8f3e-seed-0002', '019c8f3e-seed-0001']);
    expect(records[0]).toMatchObject({
      endpointId: 'fal-ai/kling-video/v2.6/pro/image-to-video',
      status: 'running',
      queuePosition: 0,
      submittedAt: '2026-02-20T17:00:00.000001Z',
      tags: { origin: 'seed' },
    });
    expect(records[1]?.input?.files[0]).toMatchObject({
      field: 'image_urls.0',
      kind: 'data-uri',
      size: 4096,
      mime: 'image/jpeg',
    });
    expect(warnings).toEqual([]);

    const backups = (await readdir(tmp.dir)).filter((n) => n.includes('.seed-backup-'));
    expect(backups).toHaveLength(1);
    expect(await readFile(join(tmp.dir, backups[0] ?? ''), 'utf8')).toBe(seedText);
    expect((await stat(join(tmp.dir, backups[0] ?? ''))).mode & 0o777).toBe(0o600);

    const migrated = await readFile(path, 'utf8');
    expect(migrated).not.toContain(b64.slice(0, 64));
    const json = JSON.parse(migrated);
    expect(json.version).toBe(FILE_FORMAT_VERSION);
    expect(json.requests).toHaveLength(2);
    // The seed's file is the user's: it keeps its mode (the backup is private).
    expect((await stat(path)).mode & 0o777).toBe(0o644);

    // Afterwards it is an ordinary store: no second backup, writes work.
    await store.update('019c8f3e-seed-0001', { status: 'completed' }, { status: 'queued' });
    await store.close();
    const again = createFileStore({ path });
    expect((await again.get('019c8f3e-seed-0001'))?.status).toBe('completed');
    await again.close();
    expect((await readdir(tmp.dir)).filter((n) => n.includes('.seed-backup-'))).toHaveLength(1);
  });

  it('a first write (not a read) also migrates instead of overwriting', async () => {
    const path = join(tmp.dir, 'write-first.json');
    await writeFile(path, seedText);
    const store = createFileStore({ path });
    await store.remove('019c8f3e-seed-0002');
    expect((await store.list()).map((r) => r.requestId)).toEqual(['019c8f3e-seed-0001']);
    await store.close();
  });
});
