import { defineConfig } from 'vitest/config';

// No `ssr.resolve.conditions: ['falai-source']` here, unlike other packages: Vitest forwards those
// conditions to Node, which then loads eventsource-parser's (a dependency of @fal-ai/client)
// raw TypeScript through its `source` export and fails. This package has no workspace
// dependencies, so it does not need the condition.
export default defineConfig({
  resolve: { conditions: ['falai-source'] },
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
