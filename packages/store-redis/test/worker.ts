import { runStoreWorker } from '@falai/store-conformance/worker';
import { createRedisStore } from '../src/index.js';

await runStoreWorker((prefix) =>
  createRedisStore({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix }),
);
