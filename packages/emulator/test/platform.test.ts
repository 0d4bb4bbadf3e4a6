import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/index.js';
import { completion, type Json, json } from './helpers.js';

/**
 * The emulator's fal Platform API (`/v1/…`, fal-platform-api.md): catalogue, prices, estimates,
 * request history, billing, analytics, the error envelope, and `x-fal-billable-units` on
 * results following each model's price rule. Expectations are computed from the data files.
 */

const API_KEY = 'api-key-id:api-key-secret';
const ADMIN_KEY = 'admin-key-id:admin-key-secret';
const api = { authorization: `Key ${API_KEY}` };
const admin = { authorization: `Key ${ADMIN_KEY}` };

const dataFile = (name: string) =>
  JSON.parse(
    readFileSync(new URL(`../src/platform/data/${name}`, import.meta.url), 'utf8'),
  ) as Json;
const catalogue = dataFile('catalogue.json');
const pricing = dataFile('prices.json');
const priceOf = (id: string) =>
  pricing.prices.find((price: Json) => price.endpoint_id === id) as Json;

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({
    deterministic: true,
    defaultLatency: { queueMs: 5, runMs: 20 },
    concurrency: Number.POSITIVE_INFINITY,
    keys: { accept: [API_KEY] },
    platform: { adminKeys: [ADMIN_KEY], credits: 50, username: 'ada' },
  });
});
afterAll(async () => {
  await emulator.close();
});

const v1 = (path: string, headers: Record<string, string> = api, init: RequestInit = {}) =>
  fetch(`${emulator.url}/v1${path}`, { ...init, headers: { ...headers, ...init.headers } });

/** Submits with the API key, waits for completion and fetches the result. */
async function run(endpointId: string, input: unknown, key = api) {
  const submitted = await fetch(`${emulator.url}/${endpointId}`, {
    method: 'POST',
    headers: { ...key, 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  expect(submitted.status).toBe(200);
  const { request_id: requestId, response_url: responseUrl } = await json(submitted);
  await completion(emulator, requestId);
  const result = await fetch(responseUrl, { headers: key });
  return { requestId, result, body: await json(result) };
}

function expectEnvelope(body: Json, type: string) {
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.type).toBe(type);
  expect(typeof body.error.message).toBe('string');
}

describe('catalogue (GET /v1/models)', () => {
  it('lists at least 30 endpoints across image, video and audio categories, without a key', async () => {
    const all: Json[] = [];
    let cursor: string | null = null;
    do {
      const response = await v1(`/models?limit=7${cursor ? `&cursor=${cursor}` : ''}`, {});
      expect(response.status).toBe(200);
      const page = await json(response);
      expect(page.models.length).toBeLessThanOrEqual(7);
      expect(page.has_more).toBe(page.next_cursor !== null);
      all.push(...page.models);
      cursor = page.next_cursor;
    } while (cursor);
    expect(all.map((model) => model.endpoint_id)).toEqual(
      catalogue.models.map((model: Json) => model.endpoint_id),
    );
    expect(all.length).toBeGreaterThanOrEqual(30);
    const categories = new Set(all.map((model) => model.metadata.category));
    for (const category of ['text-to-image', 'image-to-image', 'text-to-video', 'image-to-video']) {
      expect(categories).toContain(category);
    }
    expect(categories).toContain('video-to-video');
    expect([...categories].some((category) => /speech|audio/.test(category))).toBe(true);
    for (const id of [
      'fal-ai/nano-banana-pro',
      'fal-ai/nano-banana-pro/edit',
      'fal-ai/flux/dev/image-to-image',
      'fal-ai/kling-video/o3/pro/video-to-video/edit',
      'fal-ai/kling-video/o3/standard/video-to-video/edit',
    ]) {
      expect(all.map((model) => model.endpoint_id)).toContain(id);
    }
    const statuses = new Set(all.map((model) => model.metadata.status));
    expect(statuses).toEqual(new Set(['active', 'deprecated']));
    for (const model of all) {
      expect(model.openapi).toBeUndefined();
      expect(model.metadata).toMatchObject({
        display_name: expect.any(String),
        description: expect.any(String),
        tags: expect.any(Array),
        model_url: `https://fal.run/${model.endpoint_id}`,
        highlighted: expect.any(Boolean),
        pinned: false,
        is_favorited: null,
      });
      expect(model.metadata.duration_estimate).toBeGreaterThan(0);
    }
  });

  it('encodes the page number in the cursor (Mg== is page 2)', async () => {
    const first = await json(await v1('/models?limit=2'));
    expect(first.next_cursor).toBe('Mg==');
    const second = await json(await v1('/models?limit=2&cursor=Mg=='));
    expect(second.models[0].endpoint_id).toBe(catalogue.models[2].endpoint_id);
    const last = await json(await v1(`/models?limit=100`));
    expect(last).toMatchObject({ next_cursor: null, has_more: false });
  });

  it('filters by free text, category, status and endpoint ids (repeated or comma-separated)', async () => {
    const kling = await json(await v1('/models?q=kling%20edit'));
    expect(kling.models.map((model: Json) => model.endpoint_id)).toEqual([
      'fal-ai/kling-video/o3/pro/video-to-video/edit',
      'fal-ai/kling-video/o3/standard/video-to-video/edit',
    ]);
    const videos = await json(await v1('/models?category=text-to-video&limit=100'));
    expect(videos.models.length).toBeGreaterThan(2);
    expect(videos.models.every((model: Json) => model.metadata.category === 'text-to-video')).toBe(
      true,
    );
    const deprecated = await json(await v1('/models?status=deprecated'));
    expect(deprecated.models.length).toBeGreaterThan(0);
    expect(deprecated.models.every((model: Json) => model.metadata.status === 'deprecated')).toBe(
      true,
    );
    const byIds = await json(
      await v1('/models?endpoint_id=fal-ai/flux/dev,fal-ai/veo-unknown&endpoint_id=fal-ai/aura-sr'),
    );
    expect(byIds.models.map((model: Json) => model.endpoint_id).sort()).toEqual([
      'fal-ai/aura-sr',
      'fal-ai/flux/dev',
    ]);
  });

  it('expand=openapi-3.0 attaches the queue OpenAPI document in fal’s shape', async () => {
    const page = await json(await v1('/models?endpoint_id=fal-ai/flux/dev&expand=openapi-3.0'));
    const doc = page.models[0].openapi;
    expect(doc.openapi).toBe('3.0.4');
    expect(doc.info.title).toBe('Queue OpenAPI for fal-ai/flux/dev');
    expect(doc.info['x-fal-metadata']).toMatchObject({
      endpointId: 'fal-ai/flux/dev',
      category: 'text-to-image',
    });
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/fal-ai/flux/dev',
      '/fal-ai/flux/dev/requests/{request_id}',
      '/fal-ai/flux/dev/requests/{request_id}/cancel',
      '/fal-ai/flux/dev/requests/{request_id}/status',
    ]);
    expect(doc.servers).toEqual([{ url: 'https://queue.fal.run' }]);
    expect(doc.components.securitySchemes.apiKeyAuth.name).toBe('Authorization');
    const schemas = doc.components.schemas;
    expect(schemas.FluxDevInput.required).toEqual(['prompt']);
    expect(schemas.FluxDevInput['x-fal-order-properties'][0]).toBe('prompt');
    expect(schemas.FluxDevOutput.properties.images.items).toEqual({
      $ref: '#/components/schemas/Image',
    });
    // Every $ref points at a schema in the same document.
    const refs = JSON.stringify(doc).match(/#\/components\/schemas\/[A-Za-z0-9_]+/g) ?? [];
    for (const ref of refs) expect(schemas[ref.split('/').pop() as string]).toBeDefined();
  });

  it('answers {error:{code,message}} as the openapi of a model fal cannot describe', async () => {
    const broken = catalogue.models.find((model: Json) => model.openapi_error);
    const page = await json(
      await v1(`/models?endpoint_id=${broken.endpoint_id}&expand=openapi-3.0`),
    );
    expect(page.models[0].openapi).toEqual({ error: broken.openapi_error });
  });

  it('refuses more than 50 endpoint ids and unknown expand values with the error envelope', async () => {
    const ids = Array.from({ length: 51 }, (_, index) => `fal-ai/m${index}`).join(',');
    const tooMany = await v1(`/models?endpoint_id=${ids}`);
    expect(tooMany.status).toBe(422);
    expectEnvelope(await json(tooMany), 'validation_error');
    const expand = await v1('/models?expand=everything');
    expect(expand.status).toBe(422);
    const badCursor = await v1('/models?cursor=not-a-page');
    expect(badCursor.status).toBe(422);
    expectEnvelope(await json(badCursor), 'validation_error');
  });

  it('answers 401 for a key it does not know, even where a key is optional', async () => {
    const response = await v1('/models', { authorization: 'Key nobody:nothing' });
    expect(response.status).toBe(401);
    expectEnvelope(await json(response), 'authorization_error');
  });
});

describe('prices and estimates', () => {
  it('lists unit prices in several unit kinds and needs a key', async () => {
    const ids = [
      'fal-ai/nano-banana-pro',
      'fal-ai/flux/dev',
      'fal-ai/kling-video/v2.1/master/text-to-video',
      'fal-ai/birefnet/v2',
      'fal-ai/stable-audio',
    ];
    const response = await v1(`/models/pricing?endpoint_id=${ids.join('&endpoint_id=')}`);
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body).toMatchObject({ next_cursor: null, has_more: false });
    expect(body.prices).toEqual(
      ids.map((id) => ({
        endpoint_id: id,
        unit_price: priceOf(id).unit_price,
        unit: priceOf(id).unit,
        currency: 'USD',
      })),
    );
    expect(new Set(body.prices.map((price: Json) => price.unit))).toEqual(
      new Set(['images', 'megapixels', 'seconds', 'requests', 'units']),
    );
    const anonymous = await v1('/models/pricing?endpoint_id=fal-ai/flux/dev', {});
    expect(anonymous.status).toBe(401);
    expect(await json(anonymous)).toEqual({
      error: { type: 'authorization_error', message: 'Authentication required' },
    });
  });

  it('[?] answers 404 not_found for an endpoint id the catalogue does not know, and leaves out unpriced ones', async () => {
    const unknown = await v1('/models/pricing?endpoint_id=fal-ai/does-not-exist');
    expect(unknown.status).toBe(404);
    expectEnvelope(await json(unknown), 'not_found');
    const unpriced = catalogue.models.find((model: Json) => !priceOf(model.endpoint_id));
    const body = await json(
      await v1(`/models/pricing?endpoint_id=${unpriced.endpoint_id},fal-ai/flux/dev`),
    );
    expect(body.prices.map((price: Json) => price.endpoint_id)).toEqual(['fal-ai/flux/dev']);
  });

  it('estimates both kinds: units × unit price, and calls × historical price per call', async () => {
    const post = (body: unknown) =>
      v1('/models/pricing/estimate', api, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const units = await json(
      await post({
        estimate_type: 'unit_price',
        endpoints: {
          'fal-ai/flux/dev': { unit_quantity: 2.5 },
          'fal-ai/ltx-video': { unit_quantity: 1 },
        },
      }),
    );
    expect(units.estimate_type).toBe('unit_price');
    expect(units.currency).toBe('USD');
    expect(units.total_cost).toBeCloseTo(
      2.5 * priceOf('fal-ai/flux/dev').unit_price + priceOf('fal-ai/ltx-video').unit_price,
      9,
    );
    const history = await json(
      await post({
        estimate_type: 'historical_api_price',
        endpoints: { 'fal-ai/stable-audio': { call_quantity: 3 } },
      }),
    );
    expect(history.total_cost).toBeCloseTo(
      3 * priceOf('fal-ai/stable-audio').historical_cost_per_call,
      9,
    );
    // A `units` price bills several units per call: history ÷ unit price says how many.
    expect(history.total_cost / 3 / priceOf('fal-ai/stable-audio').unit_price).toBeCloseTo(
      priceOf('fal-ai/stable-audio').billing.units_per_call,
      6,
    );
    for (const bad of [
      { estimate_type: 'guess', endpoints: { 'fal-ai/flux/dev': { call_quantity: 1 } } },
      { estimate_type: 'unit_price', endpoints: {} },
      { estimate_type: 'unit_price', endpoints: { 'fal-ai/flux/dev': { unit_quantity: 0 } } },
      {
        estimate_type: 'historical_api_price',
        endpoints: { 'fal-ai/flux/dev': { call_quantity: 1.5 } },
      },
    ]) {
      const response = await post(bad);
      expect(response.status).toBe(422);
      expectEnvelope(await json(response), 'validation_error');
    }
    const notJson = await v1('/models/pricing/estimate', api, { method: 'POST', body: '{' });
    expect(notJson.status).toBe(422);
  });
});

describe('x-fal-billable-units and billing', () => {
  const billed = new Map<string, { units: string; endpointId: string }>();

  async function billedRun(endpointId: string, input: unknown) {
    const outcome = await run(endpointId, input);
    expect(outcome.result.status).toBe(200);
    const units = outcome.result.headers.get('x-fal-billable-units');
    expect(units).not.toBeNull();
    billed.set(outcome.requestId, { units: units as string, endpointId });
    return { ...outcome, units: Number(units) };
  }

  it('[?] bills images, requested megapixels, requested video seconds, characters, calls, run time and fixed units', async () => {
    const images = await billedRun('fal-ai/nano-banana-pro', { prompt: 'a cat', num_images: 3 });
    expect(images.body.images).toHaveLength(3);
    expect(images.units).toBe(3);

    const [width, height] = pricing.image_size_presets.landscape_16_9;
    const megapixels = await billedRun('fal-ai/flux/dev', {
      prompt: 'a dog',
      image_size: 'landscape_16_9',
      num_images: 2,
    });
    expect(megapixels.units).toBeCloseTo((2 * width * height) / 1e6, 6);
    const custom = await billedRun('fal-ai/flux/schnell', {
      prompt: 'a fox',
      image_size: { width: 2000, height: 1000 },
    });
    expect(custom.units).toBeCloseTo(2, 6);

    const video = await billedRun('fal-ai/kling-video/v2.1/master/text-to-video', {
      prompt: 'a wave',
    });
    expect(video.body.video.content_type).toBe('video/mp4');
    // [?] The requested duration is billed (the sample video is 1 s): the schema default '5'…
    expect(video.units).toBe(5);
    // …or the input's duration.
    const longer = await billedRun('fal-ai/kling-video/v2.1/master/text-to-video', {
      prompt: 'a longer wave',
      duration: '10',
    });
    expect(longer.units).toBe(10);

    const text = 'Hello from the emulator, twice over.';
    const speech = await billedRun('fal-ai/elevenlabs/tts/multilingual-v2', { text });
    expect(speech.units).toBeCloseTo(text.length / 1000, 6);
    const audio = await fetch(speech.body.audio.url);
    expect(audio.headers.get('content-type')).toBe('audio/wav');
    const wav = Buffer.from(await audio.arrayBuffer());
    expect(wav.subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect(wav.length).toBe(speech.body.audio.file_size);

    const call = await billedRun('fal-ai/birefnet/v2', { image_url: 'https://example.com/a.png' });
    expect(call.body.image.content_type).toBe('image/png');
    expect(call.units).toBe(1);

    const runTime = await billedRun('fal-ai/aura-sr', { image_url: 'https://example.com/b.png' });
    expect(runTime.units).toBeCloseTo(0.02, 6);

    const units = await billedRun('fal-ai/stable-audio', { prompt: 'rain', seconds_total: 4 });
    expect(units.units).toBe(priceOf('fal-ai/stable-audio').billing.units_per_call);
    const music = await billedRun('fal-ai/elevenlabs/music', {
      prompt: 'jazz',
      music_length_ms: 90_000,
    });
    expect(music.units).toBeCloseTo(1.5, 6);
  });

  it('records a billing event per billed result: units × unit price (ADMIN key only)', async () => {
    const refused = await v1('/models/billing-events');
    expect(refused.status).toBe(403);
    expect(await json(refused)).toEqual({
      error: { type: 'authorization_error', message: 'Access denied' },
    });
    const events: Json[] = [];
    let cursor: string | null = null;
    do {
      const page = await json(
        await v1(`/models/billing-events?limit=3${cursor ? `&cursor=${cursor}` : ''}`, admin),
      );
      events.push(...page.billing_events);
      cursor = page.next_cursor;
    } while (cursor);
    for (const [requestId, { units, endpointId }] of billed) {
      const event = events.find((item) => item.request_id === requestId);
      const price = priceOf(endpointId);
      expect(event).toMatchObject({
        endpoint_id: endpointId,
        output_units: Number(units),
        unit_price: price.unit_price,
        percent_discount: 0,
        cost_discount: 0,
      });
      expect(event.cost_total).toBeCloseTo(Number(units) * price.unit_price, 9);
      expect(event.cost_subtotal).toBe(event.cost_total);
      expect(event.cost_estimate_nano_usd).toBe(Math.round(event.cost_total * 1e9));
      expect(Date.parse(event.timestamp)).not.toBeNaN();
    }
    const one = [...billed.keys()][0] as string;
    const filtered = await json(await v1(`/models/billing-events?request_id=${one}`, admin));
    expect(filtered.billing_events.map((event: Json) => event.request_id)).toEqual([one]);
    const byKey = await json(await v1('/models/billing-events?api_key_id=someone-else', admin));
    expect(byKey.billing_events).toEqual([]);
    // An ADMIN key runs models too; its requests are its own key's.
    const { result } = await run('fal-ai/flux/schnell', { prompt: 'admin' }, admin);
    expect(result.status).toBe(200);
    const adminEvents = await json(
      await v1(`/models/billing-events?api_key_id=${ADMIN_KEY.split(':')[0]}`, admin),
    );
    expect(adminEvents.billing_events).toHaveLength(1);
    const mine = await json(
      await v1(`/models/billing-events?api_key_id=${API_KEY.split(':')[0]}&limit=100`, admin),
    );
    expect(mine.billing_events.length).toBe(billed.size);
    const tooLong = await v1(
      '/models/billing-events?start=2026-01-01T00:00:00Z&end=2026-05-01T00:00:00Z',
      admin,
    );
    expect(tooLong.status).toBe(422);
  });

  it('answers the account’s credits to an ADMIN key, lowered by what was billed; refuses an API key', async () => {
    const refused = await v1('/account/billing?expand=credits');
    expect(refused.status).toBe(403);
    expectEnvelope(await json(refused), 'authorization_error');
    const events = await json(await v1('/models/billing-events?limit=1000', admin));
    const spent = events.billing_events.reduce(
      (sum: number, event: Json) => sum + event.cost_total,
      0,
    );
    const account = await json(await v1('/account/billing?expand=credits', admin));
    expect(account.username).toBe('ada');
    expect(account.credits.currency).toBe('USD');
    expect(account.credits.current_balance).toBeCloseTo(50 - spent, 6);
    expect(await json(await v1('/account/billing', admin))).toEqual({ username: 'ada' });
  });

  it('sums billed usage per endpoint for an ADMIN key', async () => {
    const usage = await json(await v1('/models/usage?expand=summary', admin));
    const line = usage.summary.find((item: Json) => item.endpoint_id === 'fal-ai/flux/dev');
    const price = priceOf('fal-ai/flux/dev');
    const units = [...billed.values()]
      .filter((item) => item.endpointId === 'fal-ai/flux/dev')
      .reduce((sum, item) => sum + Number(item.units), 0);
    expect(line).toMatchObject({ unit: price.unit, unit_price: price.unit_price, currency: 'USD' });
    expect(line.quantity).toBeCloseTo(units, 6);
    expect(line.cost_total).toBeCloseTo(units * price.unit_price, 9);
    expect((await v1('/models/usage')).status).toBe(403);
  });
});

describe('request history', () => {
  const endpointId = 'fal-ai/flux-pro/kontext';
  let good: string;
  let invalid: string;

  beforeAll(async () => {
    good = (
      await run(endpointId, {
        prompt: 'paint the fence red',
        image_url: 'https://example.com/fence.png',
      })
    ).requestId;
    // A catalogue model without a models/ file is validated from its schema: 422 at result.
    const bad = await run(endpointId, { prompt: 'no image given' });
    expect(bad.result.status).toBe(422);
    expect(bad.body.detail[0]).toMatchObject({ type: 'missing', loc: ['body', 'image_url'] });
    invalid = bad.requestId;
  });

  it('lists every request of an endpoint, newest first, with payloads on request', async () => {
    const body = await json(await v1(`/models/requests/by-endpoint?endpoint_id=${endpointId}`));
    expect(body.items.map((item: Json) => item.request_id)).toEqual([invalid, good]);
    const [latest, earliest] = body.items;
    expect(earliest).toMatchObject({ endpoint_id: endpointId, status_code: 200 });
    expect(latest.status_code).toBe(422);
    expect(earliest.json_input).toBeUndefined();
    for (const item of body.items) {
      expect(Date.parse(item.ended_at)).toBeGreaterThanOrEqual(Date.parse(item.started_at));
      expect(item.duration).toBeGreaterThan(0);
    }
    const withPayloads = await json(
      await v1(`/models/requests/by-endpoint?endpoint_id=${endpointId}&expand=payloads`),
    );
    const item = withPayloads.items.find((entry: Json) => entry.request_id === good);
    expect(item.json_input).toEqual({
      prompt: 'paint the fence red',
      image_url: 'https://example.com/fence.png',
    });
    expect(item.json_output.images).toHaveLength(1);
  });

  it('filters by status, request id and window, and pages with a cursor', async () => {
    const byStatus = async (status: string) =>
      (
        await json(
          await v1(`/models/requests/by-endpoint?endpoint_id=${endpointId}&status=${status}`),
        )
      ).items.map((item: Json) => item.request_id);
    expect(await byStatus('success')).toEqual([good]);
    expect(await byStatus('user_error')).toEqual([invalid]);
    expect(await byStatus('error')).toEqual([]);
    const byId = await json(
      await v1(`/models/requests/by-endpoint?endpoint_id=${endpointId}&request_id=${good}`),
    );
    expect(byId.items.map((item: Json) => item.request_id)).toEqual([good]);
    const future = new Date(Date.now() + 60_000).toISOString();
    const later = await json(
      await v1(
        `/models/requests/by-endpoint?endpoint_id=${endpointId}&start=${future}&end=${new Date(Date.now() + 120_000).toISOString()}`,
      ),
    );
    expect(later.items).toEqual([]);
    const first = await json(
      await v1(`/models/requests/by-endpoint?endpoint_id=${endpointId}&limit=1`),
    );
    expect(first).toMatchObject({ has_more: true, next_cursor: 'Mg==' });
    const second = await json(
      await v1(`/models/requests/by-endpoint?endpoint_id=${endpointId}&limit=1&cursor=Mg==`),
    );
    expect(second.items[0].request_id).toBe(good);
    expect(second.has_more).toBe(false);
    const missing = await v1('/models/requests/by-endpoint');
    expect(missing.status).toBe(422);
    const overLimit = await v1(`/models/requests/by-endpoint?endpoint_id=${endpointId}&limit=101`);
    expect(overLimit.status).toBe(422);
  });

  it('[?] searches request inputs by text and by image URL (word overlap stands in for semantic search)', async () => {
    const text = await json(await v1('/models/requests/search?query=fence%20red'));
    expect(text.results[0]).toMatchObject({ request_id: good, similarity: 1 });
    const strict = await json(
      await v1('/models/requests/search?query=fence%20red%20purple%20sky&min_similarity=0.9'),
    );
    expect(strict.results).toEqual([]);
    const image = await json(
      await v1('/models/requests/search?image_url=https://example.com/fence.png&expand=payloads'),
    );
    expect(image.results.map((item: Json) => item.request_id)).toEqual([good]);
    expect(image.results[0].json_input.prompt).toBe('paint the fence red');
    const browse = await json(
      await v1(`/models/requests/search?endpoint_id=${endpointId}&only_api_requests=true`),
    );
    expect(browse.results.map((item: Json) => item.request_id)).toEqual([invalid, good]);
    const playground = await json(await v1('/models/requests/search?exclude_api_requests=true'));
    expect(playground.results).toEqual([]);
    const both = await v1('/models/requests/search?query=a&image_url=https://x/y.png');
    expect(both.status).toBe(422);
  });

  it('[?] started_at is when fal received a request and sent_at when a runner took it', async () => {
    const job = emulator.job(good);
    const body = await json(
      await v1(`/models/requests/by-endpoint?endpoint_id=${endpointId}&request_id=${good}`),
    );
    expect(Date.parse(body.items[0].started_at)).toBe(Math.floor(job?.submittedAt ?? 0));
    expect(Date.parse(body.items[0].sent_at)).toBe(Math.floor(job?.startedAt ?? 0));
  });
});

describe('analytics', () => {
  it('reports counts and queue/run percentiles per endpoint, only the metrics asked for', async () => {
    const endpointId = 'fal-ai/qwen-image';
    emulator.setModel(endpointId, { queueMs: 5, runMs: [10, 40] });
    for (let index = 0; index < 4; index++) await run(endpointId, { prompt: `p${index}` });
    await run(endpointId, {});
    const body = await json(
      await v1(
        `/models/analytics?endpoint_id=${endpointId}&expand=summary&expand=request_count,success_count,user_error_count,error_count,p50_duration,p90_duration,p50_prepare_duration,cold_boot_count`,
      ),
    );
    expect(body.time_series).toBeUndefined();
    const [summary] = body.summary;
    const jobs = emulator.jobs().filter((job) => job.endpointId === endpointId);
    const runs = jobs
      .map((job) => ((job.completedAt ?? 0) - (job.startedAt ?? 0)) / 1000)
      .sort((a, b) => a - b);
    expect(summary).toMatchObject({
      endpoint_id: endpointId,
      request_count: 5,
      success_count: 4,
      user_error_count: 1,
      error_count: 0,
      cold_boot_count: 1,
    });
    expect(summary.p50_duration).toBeLessThanOrEqual(summary.p90_duration);
    expect(summary.p90_duration).toBeLessThanOrEqual((runs[runs.length - 1] ?? 0) + 0.01);
    expect(summary.p50_prepare_duration).toBeGreaterThanOrEqual(0);
    expect(summary.p99_duration).toBeUndefined();
    const series = await json(
      await v1(
        `/models/analytics?endpoint_id=${endpointId}&expand=time_series,request_count&timeframe=day`,
      ),
    );
    const total = series.time_series.reduce(
      (sum: number, bucket: Json) => sum + (bucket.results[0]?.request_count ?? 0),
      0,
    );
    expect(total).toBe(5);
    expect(Date.parse(series.time_series[0].bucket)).not.toBeNaN();
    expect((await v1('/models/analytics?expand=summary')).status).toBe(422);
    expect(
      (await v1(`/models/analytics?endpoint_id=${endpointId}&expand=p42_duration`)).status,
    ).toBe(422);
  });
});

describe('errors and limits', () => {
  it('[?] answers unknown paths (404 not_found) and wrong methods (405 validation_error) with the envelope', async () => {
    const unknown = await v1('/models/nothing-here');
    expect(unknown.status).toBe(404);
    expectEnvelope(await json(unknown), 'not_found');
    const method = await v1('/models', api, { method: 'DELETE' });
    expect(method.status).toBe(405);
    expectEnvelope(await json(method), 'validation_error');
    const meta = await json(await v1('/meta', {}));
    expect(meta.webhook_ip_ranges.length).toBeGreaterThan(0);
  });

  it('[?] fills what fal does not document: enterprise_status null, the time series by default, 1 MP without a size', async () => {
    const enterprise = await json(
      await v1('/models?endpoint_id=fal-ai/flux/dev&expand=enterprise_status'),
    );
    expect(enterprise.models[0].enterprise_status).toBeNull();
    const series = await json(
      await v1('/models/analytics?endpoint_id=fal-ai/flux/dev&expand=request_count'),
    );
    expect(Array.isArray(series.time_series)).toBe(true);
    expect(series.summary).toBeUndefined();
    // An image-to-image model sized by its input image bills 1 MP per image.
    const { result } = await run('fal-ai/flux/dev/image-to-image', {
      prompt: 'p',
      image_url: 'https://example.com/c.png',
    });
    expect(result.headers.get('x-fal-billable-units')).toBe('1');
  });

  it('knows the catalogue in strict mode: a catalogue model is accepted, an unknown one is 404', async () => {
    const strict = await startEmulator({ strict: true, defaultLatency: { queueMs: 1, runMs: 1 } });
    try {
      const post = (id: string) =>
        fetch(`${strict.url}/${id}`, {
          method: 'POST',
          headers: { ...api, 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: 'x' }),
        });
      expect((await post('fal-ai/ideogram/v3')).status).toBe(200);
      expect((await post('fal-ai/not-in-the-catalogue')).status).toBe(404);
    } finally {
      await strict.close();
    }
  });

  it('rate limits Platform calls per key with 429 rate_limited and Retry-After', async () => {
    const limited = await startEmulator({
      platform: { rateLimit: { requests: 2, windowMs: 60_000 } },
    });
    try {
      const call = () => fetch(`${limited.url}/v1/models?limit=1`, { headers: api });
      expect((await call()).status).toBe(200);
      expect((await call()).status).toBe(200);
      const third = await call();
      expect(third.status).toBe(429);
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expectEnvelope(await json(third), 'rate_limited');
      const other = await fetch(`${limited.url}/v1/models?limit=1`, {
        headers: { authorization: 'Key other:key' },
      });
      expect(other.status).toBe(200);
      expect(limited.stats.byKind.platform).toBe(4);
    } finally {
      await limited.close();
    }
  });
});

describe('unconfirmed details', () => {
  it('[?] starts the account at 100 USD of credits and username emulator when none are set', async () => {
    const fresh = await startEmulator({ platform: { adminKeys: [ADMIN_KEY] } });
    try {
      const answer = await fetch(`${fresh.url}/v1/account/billing?expand=credits`, {
        headers: admin,
      });
      expect(answer.status).toBe(200);
      expect(await json(answer)).toEqual({
        username: 'emulator',
        credits: { current_balance: 100, currency: 'USD' },
      });
    } finally {
      await fresh.close();
    }
  });

  it('[?] bills only 2xx results (a 422 is not charged); the first request of an endpoint is its cold boot; nearest-rank percentiles', async () => {
    const endpointId = 'fal-ai/bytedance/seedream/v4/text-to-image';
    emulator.setModel(endpointId, { runMs: 10 });
    const ok = await run(endpointId, { prompt: 'first' });
    emulator.setModel(endpointId, { runMs: 40 });
    const bad = await run(endpointId, {});
    expect(bad.result.status).toBe(422);
    expect(bad.result.headers.get('x-fal-billable-units')).toBeNull();
    const events = await json(await v1(`/models/billing-events?endpoint_id=${endpointId}`, admin));
    expect(events.billing_events.map((event: Json) => event.request_id)).toEqual([ok.requestId]);
    const analytics = await json(
      await v1(
        `/models/analytics?endpoint_id=${endpointId}&expand=summary,cold_boot_count,p50_duration,p99_duration`,
      ),
    );
    // Run times 0.01 s and 0.04 s (deterministic mode reports the configured run time): the
    // nearest-rank median is the shorter one, not an interpolated 0.025 s.
    expect(analytics.summary[0]).toMatchObject({
      cold_boot_count: 1,
      p50_duration: 0.01,
      p99_duration: 0.04,
    });
  });

  it('[?] buckets weeks from Monday 00:00 in the time zone, labelled as UTC instants', async () => {
    const { bucketStart } = await import('../src/platform/params.js');
    // Thursday 2026-11-26 15:30 UTC.
    const thursday = Date.parse('2026-11-26T15:30:00Z');
    expect(new Date(bucketStart(thursday, 'week', 'UTC')).toISOString()).toBe(
      '2026-11-23T00:00:00.000Z',
    );
    expect(new Date(bucketStart(thursday, 'day', 'America/New_York')).toISOString()).toBe(
      '2026-11-26T05:00:00.000Z',
    );
    expect(new Date(bucketStart(thursday, 'month', 'UTC')).toISOString()).toBe(
      '2026-11-01T00:00:00.000Z',
    );
  });

  it('[?] refuses a limit above the maximum and an estimate for an unpriced endpoint', async () => {
    expect((await v1('/models?limit=101')).status).toBe(422);
    const unpriced = catalogue.models.find((model: Json) => !priceOf(model.endpoint_id));
    const response = await v1('/models/pricing/estimate', api, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        estimate_type: 'unit_price',
        endpoints: { [unpriced.endpoint_id]: { unit_quantity: 1 } },
      }),
    });
    expect(response.status).toBe(404);
    expectEnvelope(await json(response), 'not_found');
  });

  it('[?] makes speech as long as the text takes to say (15 characters a second) and bills audio seconds', async () => {
    const text = 'x'.repeat(45);
    const { body } = await run('fal-ai/kokoro/american-english', { prompt: text });
    // 8 kHz, 8-bit mono WAV: a 44-byte header and one byte per sample.
    expect(body.audio.file_size).toBe(44 + 3 * 8000);
    const effects = await run('fal-ai/elevenlabs/sound-effects/v2', {
      text: 'boom',
      duration_seconds: 2.5,
    });
    expect(effects.result.headers.get('x-fal-billable-units')).toBe('2.5');
  });
});
