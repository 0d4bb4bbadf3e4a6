import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createModelRegistry } from '../../src/models/index.js';

const SCRIPT = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'scripts',
  'endpoint-types.mjs',
);
const GENERATED = join(dirname(SCRIPT), '..', 'src', 'lifecycle', 'endpoint-types.generated.ts');

describe('the generated endpoint types', () => {
  it('are up to date with the built-in model definitions', () => {
    // Exits 1 (and execFileSync throws) when a model file changed without regenerating.
    expect(execFileSync(process.execPath, [SCRIPT, '--check'], { encoding: 'utf8' })).toContain(
      'up to date',
    );
  });

  it('have an entry for every built-in endpoint', async () => {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(GENERATED, 'utf8');
    const ids = createModelRegistry()
      .list()
      .filter((model) => model.source === 'builtin')
      .map((model) => model.endpointId);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) expect(text).toContain(`'${id}': {`);
  });
});
