import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['falai-source'] },
  ssr: { resolve: { conditions: ['falai-source'] } },
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 20_000,
    // Multi-process and crash tests spawn many children; on small machines run files in turn.
    fileParallelism: false,
    hookTimeout: 20_000,
  },
});
