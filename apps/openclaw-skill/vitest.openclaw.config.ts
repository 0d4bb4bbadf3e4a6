import { defineConfig } from 'vitest/config';

/**
 * The heavy suite run by `pnpm test:openclaw` (root: `node scripts/run-suite.mjs openclaw`):
 * installs Node 24 and the real `openclaw` package into a cache folder and checks that the
 * built skill loads and is eligible. Not part of `pnpm test`.
 */
export default defineConfig({
  resolve: { conditions: ['falai-source'] },
  ssr: { resolve: { conditions: ['falai-source'] } },
  test: {
    include: ['test/openclaw/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 900_000,
    fileParallelism: false,
  },
});
