import { join } from 'node:path';
import { describeStoreProcesses } from '@falai/store-conformance';
import { createRedisStore } from '../src/index.js';
import { adminClient, deletePrefix, REDIS_URL, redisProblem, testPrefix } from './helpers.js';

const root = testPrefix('mp');

describeStoreProcesses({
  name: 'redis',
  worker: join(import.meta.dirname, 'worker.ts'),
  target: (_dir, label) => `${root}-${label}`,
  open: (prefix) => createRedisStore({ url: REDIS_URL, prefix }),
  env: { REDIS_URL },
  skip: redisProblem !== undefined,
  cleanup: async () => {
    const admin = adminClient();
    await deletePrefix(admin, root);
    admin.disconnect();
  },
});
