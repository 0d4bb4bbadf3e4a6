import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['falai-source'] },
  ssr: { resolve: { conditions: ['falai-source'] } },
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // Type tests (`*.test-d.ts`, expectTypeOf and @ts-expect-error) run by tsc in the same run
    // and counted in the same report. Errors in src are `pnpm typecheck`'s to report.
    typecheck: {
      enabled: true,
      include: ['test/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
      ignoreSourceErrors: true,
    },
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
