import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { isOpenclawSkill, openclawPaths } from '../config/paths.js';
import { ConfigError } from '../errors/falai-error.js';

/** Which store to open and where; what `FALAI_STORE`, `--store` and the config file hold. */
export type StoreSpec =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'redis'; readonly url: string; readonly prefix?: string }
  | { readonly kind: 'memory' };

/** Names of the environment variables the default locations read. */
type Env = Readonly<Record<string, string | undefined>>;

const EXAMPLES =
  'Use file:<path>, sqlite:<path>, redis://host:port/db (rediss:// for TLS, ?prefix=name ' +
  'for a key prefix) or memory; e.g. FALAI_STORE=sqlite:~/.local/state/falai/pending.db.';

function expandHome(path: string, env: Env): string {
  const home = env.HOME || homedir();
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return path;
}

function localPath(raw: string, kind: 'file' | 'sqlite', spec: string, env: Env): string {
  const path = raw.trim();
  if (path === '') {
    throw new ConfigError(`Store "${spec}" has no path after "${kind}:". ${EXAMPLES}`);
  }
  if (kind === 'sqlite' && path === ':memory:') return path;
  const expanded = expandHome(path, env);
  return isAbsolute(expanded) ? expanded : resolve(expanded);
}

/**
 * The directory falai keeps state in when it is not running as the OpenClaw skill:
 * `$XDG_STATE_HOME/falai`, default `~/.local/state/falai` (XDG base directory spec).
 */
export function defaultStateDir(env: Env = process.env): string {
  const xdg = env.XDG_STATE_HOME?.trim();
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'falai');
}

/**
 * The OpenClaw agent workspace: `OPENCLAW_WORKSPACE_DIR`, else `OPENCLAW_STATE_DIR/workspace`,
 * else `~/.openclaw-<OPENCLAW_PROFILE>/workspace`, else `~/.openclaw/workspace`
 * (one rule, shared with credentials: `openclawPaths`).
 */
export function openclawWorkspaceDir(env: Env = process.env): string {
  return openclawPaths(env).workspaceDir;
}

/**
 * The file store's default path. Chosen so that nothing is lost in the move from the seed:
 * 1. `FAL_PENDING_FILE`, exactly like the seed skill;
 * 2. when running as the OpenClaw skill (`FALAI_SKILL=openclaw`, set by the skill's wrapper),
 *    `fal-pending.json` in the OpenClaw workspace, the seed's file, migrated in place;
 * 3. otherwise `$XDG_STATE_HOME/falai/pending.json` (default `~/.local/state/falai/pending.json`),
 *    so a terminal user's state never lands inside an agent workspace.
 */
export function defaultPendingFile(env: Env = process.env): string {
  const explicit = env.FAL_PENDING_FILE?.trim();
  if (explicit) return resolve(expandHome(explicit, env));
  if (isOpenclawSkill(env)) {
    return join(openclawWorkspaceDir(env), 'fal-pending.json');
  }
  return join(defaultStateDir(env), 'pending.json');
}

/** The SQLite store's default path: `pending.db` beside the default pending file. */
export function defaultSqliteFile(env: Env = process.env): string {
  const file = defaultPendingFile(env);
  return file.replace(/(?:\.json)?$/i, '.db');
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
 * Parses a store location as given in `FALAI_STORE`, `--store` or the config file.
 * A bare kind (`file`, `sqlite`, `redis`, `memory`) selects that store at its default place.
 * Throws `ConfigError` with the accepted forms when the text makes no sense.
 */
export function parseStoreSpec(spec: string, env: Env = process.env): StoreSpec {
  const text = spec.trim();
  if (text === '') throw new ConfigError(`The store setting is empty. ${EXAMPLES}`);
  const lower = text.toLowerCase();
  if (lower === 'memory' || lower === 'memory:') return { kind: 'memory' };
  if (lower === 'file') return { kind: 'file', path: defaultPendingFile(env) };
  if (lower === 'sqlite') return { kind: 'sqlite', path: defaultSqliteFile(env) };
  if (lower === 'redis') return { kind: 'redis', url: 'redis://127.0.0.1:6379' };
  if (lower.startsWith('redis://') || lower.startsWith('rediss://')) return parseRedis(text);
  if (lower.startsWith('file://')) {
    let path: string;
    try {
      path = decodeURIComponent(new URL(text).pathname);
    } catch {
      throw new ConfigError(`Store "${text}" is not a valid file URL. ${EXAMPLES}`);
    }
    return { kind: 'file', path: localPath(path, 'file', text, env) };
  }
  if (lower.startsWith('file:'))
    return { kind: 'file', path: localPath(text.slice(5), 'file', text, env) };
  if (lower.startsWith('sqlite:')) {
    return { kind: 'sqlite', path: localPath(text.slice(7), 'sqlite', text, env) };
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
