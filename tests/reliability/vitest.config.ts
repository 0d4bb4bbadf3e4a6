import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Runs the files in name order, except the secrets scan (`…-secrets.test.ts`), which must
 * come after everything else: it reads what every other file left in the run folder.
 */
class ByName extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const last = (file: TestSpecification) => (/-secrets\.test\.ts$/.test(file.moduleId) ? 1 : 0);
    return [...files].sort((a, b) => last(a) - last(b) || a.moduleId.localeCompare(b.moduleId));
  }
}

// The reliability suite spawns the built CLI against the emulator on 127.0.0.1; every test
// bounds itself in count and time, these limits only catch a hang.
export default defineConfig({
  resolve: { conditions: ['falai-source'] },
  ssr: { resolve: { conditions: ['falai-source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 240_000,
    hookTimeout: 120_000,
    // Each file spawns many processes: on a 2-core machine running files side by side only
    // makes them slower and less predictable; and the secrets scan must run last.
    fileParallelism: false,
    maxConcurrency: 3,
    sequence: { sequencer: ByName },
  },
});
