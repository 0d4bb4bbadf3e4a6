/**
 * Store throughput at 10,000 records: put, conditional update and full list for the file,
 * SQLite and Redis stores. Runs against the built packages (`pnpm bench` builds first).
 *
 * The file store's target is checked on puts made one at a time (what one CLI process or one
 * poller does: no group commit to help), over enough puts that the journal is folded into
 * the snapshot during the run; the 16-in-flight figure is checked against the same target.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';

const TARGETS = { file: 200, sqlite: 5000, redis: 5000 };
const CONCURRENCY = 16;

function record(id, n) {
  const at = new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();
  return {
    requestId: id,
    endpointId: n % 2 ? 'fal-ai/flux/dev' : 'fal-ai/veo3',
    status: 'running',
    submittedAt: at,
    updatedAt: at,
    urls: { status: `https://queue.fal.run/fal-ai/flux/requests/${id}/status` },
    input: { fields: { prompt: `bench prompt ${n}`, num_images: 1 }, files: [] },
    attempts: { submit: 1, poll: 0, errors: 0 },
  };
}

/** Runs `count` operations, `concurrency` at a time; returns operations per second. */
async function rate(count, op, concurrency = CONCURRENCY) {
  const started = process.hrtime.bigint();
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) await op(next++);
  });
  await Promise.all(lanes);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return count / seconds;
}

async function measure(name, store, records, opts) {
  const rows = [];
  const {
    filler = 0,
    puts,
    updates,
    lists,
    serialPuts = Math.max(10, Math.floor(puts / 10)),
  } = opts;
  // Fill up to `records` first (the file store in one bulk write), then time puts on top.
  if (filler > 0) {
    if (typeof store.putMany === 'function') {
      await store.putMany(Array.from({ length: filler }, (_, n) => record(`fill-${n}`, n)));
    } else {
      await rate(filler, (n) => store.put(record(`fill-${n}`, n)));
    }
  }
  const putRate = await rate(puts, (n) => store.put(record(`put-${n}`, filler + n)));
  rows.push([name, `put (${CONCURRENCY} concurrent)`, records, Math.round(putRate)]);
  // One caller at a time: what a single CLI process sees (no group commit to help). The ids
  // cycle over the records already put, so the store keeps `records` records.
  const serialRate = await rate(
    serialPuts,
    (n) => store.put(record(`put-${n % puts}`, filler + (n % puts))),
    1,
  );
  rows.push([name, 'put (one at a time)', records, Math.round(serialRate)]);
  const updateRate = await rate(updates, (n) =>
    store.update(
      `put-${n % puts}`,
      { status: 'completed', result: { n } },
      { status: ['running', 'completed'] },
    ),
  );
  rows.push([name, 'update (conditional)', records, Math.round(updateRate)]);
  let listed = 0;
  const listRate = await rate(
    lists,
    async () => {
      listed = (await store.list()).length;
    },
    1,
  );
  if (listed !== records) throw new Error(`${name}: listed ${listed} records, expected ${records}`);
  rows.push([name, 'list (all records)', records, Math.round(listRate * 10) / 10]);
  return { rows, putRate, serialRate };
}

export default async function run(ctx) {
  const total = ctx.quick ? 1_000 : 10_000;
  const dir = await mkdtemp(join(ctx.tmpDir, 'stores-'));
  const rows = [];
  const targets = [];
  const target = (name, measured, error, how) =>
    targets.push({
      name: `${name} puts/s${how ? ` (${how})` : ''}`,
      target: `>= ${TARGETS[name]}`,
      measured: Math.round(measured),
      pass: measured >= TARGETS[name],
      ...(error ? { note: error } : {}),
    });

  try {
    const { createFileStore } = await import('../../packages/store-file/dist/index.js');
    const filePuts = ctx.quick ? 50 : 200;
    const file = createFileStore({ path: join(dir, 'pending.json') });
    const fileResult = await measure('file', file, total, {
      filler: total - filePuts,
      puts: filePuts,
      // ~1,000 puts of these records fold the journal of a 10,000-record store once or twice.
      serialPuts: ctx.quick ? 200 : 2_000,
      updates: filePuts,
      lists: ctx.quick ? 5 : 20,
    });
    await file.close();
    rows.push(...fileResult.rows);
    target('file', fileResult.serialRate, undefined, 'one at a time');
    target('file', fileResult.putRate, undefined, `${CONCURRENCY} concurrent`);

    const { createSqliteStore } = await import('../../packages/store-sqlite/dist/index.js');
    const sqlite = createSqliteStore({ path: join(dir, 'pending.db') });
    const sqliteResult = await measure('sqlite', sqlite, total, {
      puts: total,
      updates: total,
      lists: ctx.quick ? 5 : 20,
    });
    await sqlite.close();
    rows.push(...sqliteResult.rows);
    target('sqlite', sqliteResult.putRate);

    const { createRedisStore } = await import('../../packages/store-redis/dist/index.js');
    const prefix = `falaibench-${randomBytes(6).toString('hex')}`;
    const redis = createRedisStore({ url: ctx.redisUrl, prefix });
    try {
      const redisResult = await measure('redis', redis, total, {
        puts: total,
        updates: total,
        lists: ctx.quick ? 3 : 10,
      });
      rows.push(...redisResult.rows);
      target('redis', redisResult.putRate);
    } catch (error) {
      rows.push(['redis', 'unavailable', 0, 0]);
      target('redis', 0, error instanceof Error ? error.message : String(error));
    } finally {
      await cleanupRedis(ctx.redisUrl, prefix);
      await redis.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { title: 'Stores', columns: ['store', 'op', 'records', 'ops/s'], rows, targets };
}

/** Deletes only the benchmark's own keys (SCAN + DEL under its random prefix). */
async function cleanupRedis(url, prefix) {
  const { createRequire } = await import('node:module');
  const require = createRequire(
    new URL('../../packages/store-redis/package.json', import.meta.url),
  );
  const { Redis } = require('ioredis');
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } catch {
    // Redis was not reachable: nothing was written.
  } finally {
    client.disconnect();
  }
}
