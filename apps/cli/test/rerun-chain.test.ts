import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ErrorOutputSchema,
  HistoryOutputSchema,
  InspectOutputSchema,
  RunOutputSchema,
  SubmitOutputSchema,
} from '@falai/core';
import { createFileStore } from '@falai/store-file';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from './helpers.js';

const SEED = '17454220438242315174';
const KLING = 'fal-ai/kling-video/o3/pro/video-to-video/edit';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(() => env?.close());

async function run(args: readonly string[]) {
  const result = await env.run([...args, '--json']);
  expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
  return result;
}

async function withStore<T>(body: (store: ReturnType<typeof createFileStore>) => Promise<T>) {
  const store = createFileStore({ path: join(env.dir, 'pending.json') });
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

/** The JSON bodies the emulator received as submits to an endpoint. */
function submitsTo(endpoint: string): unknown[] {
  return (env.emulator?.log ?? [])
    .filter((call) => call.method === 'POST' && call.path === `/${endpoint}`)
    .map((call) => call.body);
}

describe('provenance from run, rerun, and @ references', () => {
  it('run saves a file that inspect reads back: prompt, model, exact seed', async () => {
    const made = (
      await run([
        'run',
        'fal-ai/flux/dev',
        '--set',
        'prompt=a lighthouse, from run',
        '--set',
        `seed=${SEED}`,
        '--set',
        'output_format=png',
        '--out',
        join(env.dir, 'out-run'),
      ])
    ).json(RunOutputSchema);
    const path = made.outputs[0]?.path as string;
    const shown = (await run(['inspect', path])).json(InspectOutputSchema);
    expect(shown.format).toBe('png');
    expect(shown.provenance.requestId).toBe(made.requestId);
    expect(shown.provenance.endpointId).toBe('fal-ai/flux/dev');
    expect(shown.provenance.input?.prompt).toBe('a lighthouse, from run');
    expect(shown.provenance.seed).toBe(SEED);
    // The record keeps the seed too.
    const record = await withStore((store) => store.get(made.requestId));
    expect(record?.provenance?.seed).toBe(SEED);
  });

  it('rerun --set changes the input, keeps the exact seed and records the parent', async () => {
    const first = (
      await run([
        'run',
        'fal-ai/flux/dev',
        '--set',
        'prompt=a lighthouse, first',
        '--set',
        `seed=${SEED}`,
        '--out',
        join(env.dir, 'out-rerun'),
      ])
    ).json(RunOutputSchema);
    const again = await run(['rerun', first.requestId, '--set', 'prompt=a lighthouse, at night']);
    const rerun = again.json(SubmitOutputSchema);
    expect(rerun.requestId).not.toBe(first.requestId);
    const record = await withStore((store) => store.get(rerun.requestId));
    expect(record?.input?.fields.prompt).toBe('a lighthouse, at night');
    expect(record?.provenance?.parents).toEqual([{ requestId: first.requestId }]);
    // The POST body carried every digit of the 64-bit seed (the log rounds parsed bodies, so
    // compare with what the first submit sent, which was exact).
    const bodies = submitsTo('fal-ai/flux/dev') as { seed?: unknown; prompt?: string }[];
    const sent = bodies.find((body) => body.prompt === 'a lighthouse, at night');
    const original = bodies.find((body) => body.prompt === 'a lighthouse, first');
    expect(sent?.seed).toBeDefined();
    expect(sent?.seed).toBe(original?.seed);
    expect(record?.input?.fields.seed?.toString()).toBe(SEED);
  });

  it('@last and @<request-id>#1 send the earlier output URL and record the lineage', async () => {
    const image = (
      await run([
        'run',
        'fal-ai/nano-banana-pro',
        '--set',
        'prompt=a red kite',
        '--out',
        join(env.dir, 'out-chain'),
      ])
    ).json(RunOutputSchema);
    const url = image.outputs[0]?.url as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1/);
    const video = `${env.emulator?.url}/files/sample.mp4`;
    const last = (
      await run([
        'run',
        KLING,
        '--out',
        join(env.dir, 'out-chain'),
        '--set',
        'prompt=the kite flies as @Image1',
        '--set',
        `video_url=${video}`,
        '--set',
        'image_urls=@last',
      ])
    ).json(RunOutputSchema);
    const byPrefix = (
      await run([
        'run',
        KLING,
        '--out',
        join(env.dir, 'out-chain'),
        '--set',
        'prompt=the kite again as @Image1',
        '--set',
        `video_url=${video}`,
        '--set',
        `image_urls=@${image.requestId}#1`,
      ])
    ).json(RunOutputSchema);
    const bodies = submitsTo(KLING) as { prompt?: string; image_urls?: string[] }[];
    for (const prompt of ['the kite flies as @Image1', 'the kite again as @Image1']) {
      expect(bodies.find((body) => body.prompt === prompt)?.image_urls).toEqual([url]);
    }
    const history = (await run(['history'])).json(HistoryOutputSchema);
    for (const id of [last.requestId, byPrefix.requestId]) {
      const entry = history.requests.find((item) => item.requestId === id);
      expect(entry?.parents).toEqual([
        { requestId: image.requestId, output: 0, field: 'image_urls.0' },
      ]);
    }
    // The gallery's data names the lineage both ways.
    const site = join(env.dir, 'gallery');
    await run(['gallery', '--out', site]);
    const data = JSON.parse(await readFile(join(site, 'index.json'), 'utf8')) as {
      items: { id: string; parents: string[]; children: string[] }[];
    };
    const card = (id: string) => data.items.find((item) => item.id === id);
    expect(card(last.requestId)?.parents).toEqual([image.requestId]);
    expect(card(byPrefix.requestId)?.parents).toEqual([image.requestId]);
    expect(card(image.requestId)?.children).toEqual(
      expect.arrayContaining([last.requestId, byPrefix.requestId]),
    );
  });

  it('an expired fal URL falls back to uploading the saved copy', async () => {
    const image = (
      await run([
        'run',
        'fal-ai/nano-banana-pro',
        '--set',
        'prompt=a blue kite',
        '--out',
        join(env.dir, 'out-expired'),
      ])
    ).json(RunOutputSchema);
    const gone = `${env.emulator?.url}/files/outputs/expired-${image.requestId}.png`;
    await withStore(async (store) => {
      const record = await store.get(image.requestId);
      const outputs = (record?.outputs ?? []).map((file) => ({ ...file, url: gone }));
      await store.update(image.requestId, { outputs });
    });
    const submitted = (
      await run([
        'submit',
        KLING,
        '--set',
        'prompt=the blue kite as @Image1',
        '--set',
        `video_url=${env.emulator?.url}/files/sample.mp4`,
        '--set',
        `image_urls=@${image.requestId}`,
      ])
    ).json(SubmitOutputSchema);
    const body = (submitsTo(KLING) as { prompt?: string; image_urls?: string[] }[]).find(
      (item) => item.prompt === 'the blue kite as @Image1',
    );
    const sent = body?.image_urls?.[0] as string;
    expect(sent).not.toBe(gone);
    expect(sent).toContain('/files/uploads/');
    const record = await withStore((store) => store.get(submitted.requestId));
    expect(record?.provenance?.parents?.[0]?.requestId).toBe(image.requestId);
  });

  it('an unknown reference is INPUT_INVALID before any submit; a prompt with @ stays text', async () => {
    const before = submitsTo(KLING).length;
    const result = await env.run([
      'submit',
      KLING,
      '--set',
      'prompt=the kite, once more',
      '--set',
      `video_url=${env.emulator?.url}/files/sample.mp4`,
      '--set',
      'image_urls=@zzzzzzzz',
      '--json',
    ]);
    expect(result.code).toBe(4);
    const error = result.json(ErrorOutputSchema).error;
    expect(error.code).toBe('INPUT_INVALID');
    expect(error.message).toContain('falai history');
    expect(submitsTo(KLING).length).toBe(before);

    const text = await run([
      'submit',
      KLING,
      '--set',
      'prompt=@last',
      '--set',
      `video_url=${env.emulator?.url}/files/sample.mp4`,
    ]);
    const record = await withStore((store) => store.get(text.json(SubmitOutputSchema).requestId));
    expect(record?.input?.fields.prompt).toBe('@last');
    expect(record?.provenance?.parents).toBeUndefined();
  });
});
