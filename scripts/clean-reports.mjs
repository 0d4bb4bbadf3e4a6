// Removes stale vitest reports so that a package whose tests did not run counts as a failure.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

for (const group of ['packages', 'apps']) {
  if (!existsSync(group)) continue;
  for (const dir of readdirSync(group))
    rmSync(join(group, dir, '.vitest-result.json'), { force: true });
}
