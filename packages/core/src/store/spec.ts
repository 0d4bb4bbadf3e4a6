import { expandPathFrom } from '../config/paths.js';
import { type FalaiPaths, resolvePaths } from '../config/settings.js';
import { ConfigError } from '../errors/falai-error.js';

/** Which store to open and where; what `FALAI_STORE`, `--store` and the config file hold. */
export type StoreSpec =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'redis'; readonly url: string; readonly prefix?: string }
  | { readonly kind: 'memory' };

/**
 * What a store spec's paths are resolved against: `~`, relative paths, and the default file
 * and SQLite locations a bare `file` / `sqlite` selects (`settings.paths`).
 */
export type StoreLocations = Pick<FalaiPaths, 'home' | 'cwd' | 'pendingFile' | 'sqliteFile'>;

const EXAMPLES =
  'Use file:<path>, sqlite:<path>, redis://host:port/db (rediss:// for TLS, ?prefix=name ' +
  'for a key prefix) or memory; e.g. FALAI_STORE=sqlite:~/.local/state/falai/pending.db.';

function localPath(
  raw: string,
  kind: 'file' | 'sqlite',
  spec: string,
  where: StoreLocations,
): string {
  const path = raw.trim();
  if (path === '') {
    throw new ConfigError(`Store "${spec}" has no path after "${kind}:". ${EXAMPLES}`);
  }
  if (kind === 'sqlite' && path === ':memory:') return path;
  return expandPathFrom(path, where.home, where.cwd);
}

function parseRedis(spec: string): StoreSpec {
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw new ConfigError(`Store "${redactStoreLocation(spec)}" is not a valid URL. ${EXAMPLES}`);
  }
  if (!url.hostname) {
    throw new ConfigError(`Store "${redactStoreLocation(spec)}" has no host. ${EXAMPLES}`);
  }
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) {
    throw new ConfigError(
      `Store "${redactStoreLocation(spec)}": the database after the port must be a number ` +
        `(got "${db}"). ${EXAMPLES}`,
    );
  }
  const prefix = url.searchParams.get('prefix') ?? undefined;
  if (prefix !== undefined && !/^[A-Za-z0-9_.:-]+$/.test(prefix)) {
    throw new ConfigError(
      `Store "${redactStoreLocation(spec)}": prefix "${prefix}" may only use letters, digits ` +
        'and _ . : - (no braces: falai adds its own Redis Cluster hash tag).',
    );
  }
  url.searchParams.delete('prefix');
  const clean = url.toString().replace(/\?$/, '');
  return prefix === undefined
    ? { kind: 'redis', url: clean }
    : { kind: 'redis', url: clean, prefix };
}

/**
 * Parses a store location as given in `FALAI_STORE`, `--store` or the config file, its paths
 * resolved against `where` (`settings.paths`; by default the process's, see `resolvePaths`).
 * A bare kind (`file`, `sqlite`, `redis`, `memory`) selects that store at its default place.
 * Throws `ConfigError` with the accepted forms when the text makes no sense.
 */
export function parseStoreSpec(spec: string, where: StoreLocations = resolvePaths()): StoreSpec {
  const text = spec.trim();
  if (text === '') throw new ConfigError(`The store setting is empty. ${EXAMPLES}`);
  const lower = text.toLowerCase();
  if (lower === 'memory' || lower === 'memory:') return { kind: 'memory' };
  if (lower === 'file') return { kind: 'file', path: where.pendingFile };
  if (lower === 'sqlite') return { kind: 'sqlite', path: where.sqliteFile };
  if (lower === 'redis') return { kind: 'redis', url: 'redis://127.0.0.1:6379' };
  if (lower.startsWith('redis://') || lower.startsWith('rediss://')) return parseRedis(text);
  if (lower.startsWith('file://')) {
    let path: string;
    try {
      path = decodeURIComponent(new URL(text).pathname);
    } catch {
      throw new ConfigError(`Store "${text}" is not a valid file URL. ${EXAMPLES}`);
    }
    return { kind: 'file', path: localPath(path, 'file', text, where) };
  }
  if (lower.startsWith('file:'))
    return { kind: 'file', path: localPath(text.slice(5), 'file', text, where) };
  if (lower.startsWith('sqlite:')) {
    return { kind: 'sqlite', path: localPath(text.slice(7), 'sqlite', text, where) };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1];
  const hint = scheme
    ? `"${scheme}:" is not a store falai knows.`
    : 'A store needs a kind in front of the path.';
  throw new ConfigError(`Unsupported store "${redactStoreLocation(text)}": ${hint} ${EXAMPLES}`);
}

/** Hides the password (and user secret) of a URL-like store location, for logs and errors. */
export function redactStoreLocation(spec: string | StoreSpec): string {
  if (typeof spec !== 'string') {
    if (spec.kind === 'memory') return 'memory';
    if (spec.kind === 'redis') {
      const base = redactStoreLocation(spec.url);
      return spec.prefix === undefined ? base : `${base} (prefix ${spec.prefix})`;
    }
    return `${spec.kind}:${spec.path}`;
  }
  return spec.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)([^/@?#]*)@/i,
    (_m, scheme: string, auth: string) => {
      const colon = auth.indexOf(':');
      if (colon < 0) return auth === '' ? `${scheme}@` : `${scheme}***@`;
      const user = auth.slice(0, colon);
      return `${scheme}${user}:***@`;
    },
  );
}
