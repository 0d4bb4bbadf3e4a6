import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['falai-source'] },
  ssr: { resolve: { conditions: ['falai-source'] } },
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    exclude: ['test/openclaw/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
