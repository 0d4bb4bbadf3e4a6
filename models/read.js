import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/**
 * Reads every model definition file below a folder: each `*.json`, with the endpoint id its
 * path gives (`fal-ai/flux/dev/image-to-image.json` → `fal-ai/flux/dev/image-to-image`) and
 * its parsed JSON, or why it could not be read. Nothing is checked beyond JSON: the meaning
 * of a definition is the reader's business (@falai/core checks it against its meta-schema).
 * Folders and files starting with `.`, `node_modules` and a top-level `package.json` are
 * skipped, so a folder that is also a package (this one) reads the same as a plain one.
 * Files come in path order; a missing or unreadable folder gives none.
 *
 * @param {string} dir
 * @returns {import('./index.js').ModelFile[]}
 */
export function readModelFiles(dir) {
  const out = [];
  for (const file of jsonFiles(dir, true)) {
    const endpointId = relative(dir, file).slice(0, -'.json'.length).split(sep).join('/');
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      out.push({ file, endpointId, error: `cannot be read: ${error.message}` });
      continue;
    }
    out.push(parseModelFile(file, endpointId, text));
  }
  return out;
}

/**
 * One model file from its text (a bundle that embeds the definitions calls this too).
 *
 * @param {string} file
 * @param {string} endpointId
 * @param {string} text
 * @returns {import('./index.js').ModelFile}
 */
export function parseModelFile(file, endpointId, text) {
  try {
    return { file, endpointId, definition: JSON.parse(text) };
  } catch (error) {
    return { file, endpointId, error: `not valid JSON: ${error.message}` };
  }
}

/**
 * @param {string} dir
 * @param {boolean} top
 * @returns {string[]}
 */
function jsonFiles(dir, top) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out = [];
  // Code-unit order, the same on every machine (no locale).
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...jsonFiles(full, false));
    else if (entry.name.endsWith('.json') && !(top && entry.name === 'package.json')) {
      out.push(full);
    }
  }
  return out;
}
