import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['falai-source'] },
  ssr: { resolve: { conditions: ['falai-source'] } },
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
