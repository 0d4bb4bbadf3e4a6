import { fieldLabel } from '../json/values.js';
import { loadModelDirectory, type ModelFileProblem } from './registry.js';
import { validateAgainst } from './validate.js';

/** What `pnpm models:check` found in one directory. */
export interface ModelCheckResult {
  readonly dir: string;
  readonly files: number;
  readonly problems: ModelFileProblem[];
}

/**
 * Checks every model file of a directory: the meta-schema, the endpoint id against the
 * path, and that the file's own example input validates. Used by `pnpm models:check`.
 */
export async function checkModelDirectory(dir: string): Promise<ModelCheckResult> {
  const loaded = loadModelDirectory(dir, 'builtin');
  const problems = [...loaded.problems];
  for (const [i, def] of loaded.models.entries()) {
    const file = loaded.files[i] ?? def.endpointId;
    const found = await validateAgainst(def, def.example, { checkMedia: false });
    for (const issue of found.issues) {
      problems.push({
        file,
        source: 'builtin',
        field: `example.${fieldLabel(issue.path)}`,
        message: `the example input is invalid: ${issue.message}`,
      });
    }
  }
  const files = new Set([...loaded.files, ...loaded.problems.map((p) => p.file)]).size;
  return { dir, files, problems };
}
