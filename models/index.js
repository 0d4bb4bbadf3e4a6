import { fileURLToPath } from 'node:url';
import { readModelFiles } from './read.js';

export { readModelFiles } from './read.js';

/**
 * The folder the built-in definitions ship in: this package's own folder, wherever it is
 * installed. `fal-ai/nano-banana-pro.json` below it is the model `fal-ai/nano-banana-pro`.
 */
export const modelsDir = fileURLToPath(new URL('.', import.meta.url));

/**
 * The built-in model definitions, as read from {@link modelsDir} (unchecked JSON; see
 * `readModelFiles`). Bundlers that inline this package must embed the files instead, as the
 * falai CLI's bundle does (apps/cli/scripts/bundle.mjs).
 */
export function loadBuiltInModels() {
  return readModelFiles(modelsDir);
}
