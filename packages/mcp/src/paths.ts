import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { InputError, type ModelRegistry } from '@falai/core';
import { classifyFileRef, OUTPUT_REFERENCE } from '@falai/core/internal';

/** A path from an agent as it may appear in a message: quoted, escaped, bounded. */
function quoteUntrusted(text: string, max = 120): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** True when `path` is `root` or below it (both absolute and normalised). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** The real path of `path`, or of its nearest existing ancestor joined with the rest. */
async function realOrAncestor(path: string): Promise<string> {
  let current = path;
  const rest: string[] = [];
  for (;;) {
    try {
      const real = await realpath(current);
      return rest.length === 0 ? real : resolve(real, ...rest.reverse());
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      const parent = dirname(current);
      if (parent === current) return path;
      rest.push(current.slice(parent.length).replace(/^[/\\]+/, ''));
      current = parent;
    }
  }
}

/**
 * A folder an agent named, inside `root` (the output folder): a relative path without `..`
 * escapes, whose real path (symbolic links followed) stays inside the real `root`. Anything
 * else is INPUT_INVALID: agent-given paths never reach outside the output folder.
 */
export async function confinedDir(root: string, given: string | undefined): Promise<string> {
  if (given === undefined || given.trim() === '' || given.trim() === '.') return root;
  const text = given.trim();
  const refuse = (why: string) =>
    new InputError(
      `The folder ${quoteUntrusted(text)} is refused: ${why}. Give a folder relative to the output folder (${root}), e.g. "videos/today", or leave it out.`,
      [{ path: ['dir'], message: why, kind: 'path' }],
    );
  if (isAbsolute(text) || /^[a-z]:/i.test(text)) throw refuse('it is an absolute path');
  if (text.includes('\0')) throw refuse('it holds a NUL character');
  const path = resolve(root, text);
  if (!isInside(root, path)) throw refuse('it leads out of the output folder');
  const [realRoot, realPath] = await Promise.all([realOrAncestor(root), realOrAncestor(path)]);
  if (!isInside(realRoot, realPath)) throw refuse('a symbolic link leads out of the output folder');
  return path;
}

/**
 * A local file an agent put in a file field of an input: allowed only inside one of `roots`
 * (the output folder and the folders the server was started with), by its real path, so a
 * prompt cannot make the server read and upload `~/.ssh/id_rsa`. Relative paths start at the
 * first root. Returns the real path (symbolic links followed), the one that was checked.
 */
export async function confinedInputFile(
  roots: readonly string[],
  given: string,
  field: string,
): Promise<string> {
  const first = roots[0];
  if (first === undefined) throw new Error('confinedInputFile needs at least one root');
  const path = isAbsolute(given) ? resolve(given) : resolve(first, given);
  const real = await realOrAncestor(path);
  for (const root of roots) {
    if (isInside(root, path) && isInside(await realOrAncestor(root), real)) return real;
  }
  throw new InputError(
    `The local file ${quoteUntrusted(given)} in ${field} is outside the folders this server may read (${roots.join(', ')}). Put the file in one of them, pass an https:// URL instead, or start the server with --allow-dir <folder>.`,
    [{ path: field.split('.'), message: 'local file outside the allowed folders', kind: 'path' }],
  );
}

/**
 * An agent's input with every local file in its file fields confined ({@link confinedInputFile})
 * and made absolute. URLs and data URIs pass as they are (core's prepareInput sends them), and
 * so do output references (`@last`, `@<request-id>` with an optional `#n`): core's submit
 * resolves those from the store. The registry must know the model's definition (`resolve` it
 * first) for the file fields of catalogue models to be found.
 */
export async function confineInputFiles(
  registry: Pick<ModelRegistry, 'fileFields'>,
  roots: readonly string[],
  endpointId: string,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const out = structuredClone(input);
  for (const ref of registry.fileFields(endpointId, input)) {
    if (OUTPUT_REFERENCE.test(ref.value)) continue;
    const kind = classifyFileRef(ref.value);
    if (kind.kind !== 'path') continue;
    const field = ref.path.map(String).join('.');
    const path = await confinedInputFile(roots, kind.path, field);
    let target = out as Record<string | number, unknown>;
    for (const key of ref.path.slice(0, -1))
      target = target[key] as Record<string | number, unknown>;
    target[ref.path[ref.path.length - 1] as string | number] = path;
  }
  return out;
}
