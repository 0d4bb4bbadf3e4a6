import { join } from 'node:path';
import { ConfigError } from '../errors/index.js';
import { createRedactor, type Redactor } from '../redact/redactor.js';
import type { BudgetConfig } from './budget.js';
import { type FalaiConfigFile, readConfigFile } from './config-file.js';
import {
  defaultCacheDir,
  defaultPendingFile,
  defaultStateDir,
  type EnvLike,
  expandPath,
  falaiConfigLocation,
  homeDir,
  isOpenclawSkill,
  nonEmpty,
  type OpenclawPaths,
  openclawPaths,
} from './paths.js';

/**
 * The process environment. This module is the one place in core that reads it: everything
 * else receives resolved settings (or values resolved from them) as parameters, and a
 * library call made without settings resolves them here.
 */
export function processEnvironment(): EnvLike {
  return process.env;
}

/** fal's real hosts (fal-api-reference.md §0). */
export const DEFAULT_BASE_URLS = {
  queue: 'https://queue.fal.run',
  run: 'https://fal.run',
  rest: 'https://rest.fal.ai',
} as const;

/**
 * fal's Platform API (fal-platform-api.md §0); its version is part of the base. Under a fal
 * base URL (`FALAI_BASE_URL`, `--base-url`, the emulator) it lives at `<base>/v1`.
 */
export const DEFAULT_API_URL = 'https://api.fal.ai/v1';

/** The Platform API base under a fal base URL: `<base>/v1` (as the emulator serves it). */
export function apiUrlUnder(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/v1`;
}

/** How long finished requests are kept for `falai history`, in days (`historyRetentionDays`). */
export const DEFAULT_HISTORY_RETENTION_DAYS = 30;

/** Where a setting's value came from, so messages can say "from env FALAI_STORE". */
export interface SettingSource {
  readonly kind: 'flag' | 'env' | 'config' | 'default';
  /** Human label: `flag --base-url`, `env FALAI_QUEUE_URL`, `config file /x/config.json`, `default`. */
  readonly label: string;
}

/** Environment variables whose values are keys: never printed, stored or answered. */
const SECRET_VARIABLES = ['FAL_KEY', 'FAL_KEY_SECRET', 'FAL_ADMIN_KEY'] as const;

/**
 * A new redactor holding the keys of an environment (`FAL_KEY`, `FAL_KEY_SECRET`,
 * `FAL_ADMIN_KEY`, the process's by default), read at each use; keys added later (every key
 * `resolveCredentials` reads) are kept by this redactor only. What stores, the CLI and
 * servers use when they are given no redactor of their own.
 */
export function environmentRedactor(env: EnvLike = processEnvironment()): Redactor {
  return createRedactor([], () =>
    SECRET_VARIABLES.map((name) => env[name]).filter(
      (value): value is string => value !== undefined,
    ),
  );
}

/** Where falai keeps and finds things on this machine, resolved from the environment once. */
export interface FalaiPaths {
  /** The home directory (`HOME`, `USERPROFILE`, else the OS's): what a leading `~` means. */
  readonly home: string;
  /** Where relative paths (store specs, `FAL_PENDING_FILE`) start. */
  readonly cwd: string;
  /** `$XDG_STATE_HOME/falai`, default `~/.local/state/falai` (the intent journals live here). */
  readonly stateDir: string;
  /** falai's cache folder: `FALAI_CACHE_DIR`, else `$XDG_CACHE_HOME/falai`, else `~/.cache/falai`. */
  readonly cacheDir: string;
  /**
   * The default file store: `FAL_PENDING_FILE`, else the OpenClaw workspace's
   * `fal-pending.json` when running as the skill, else `<stateDir>/pending.json`.
   */
  readonly pendingFile: string;
  /** The default SQLite store: `pending.db` beside {@link pendingFile}. */
  readonly sqliteFile: string;
}

/**
 * Resolves {@link FalaiPaths} from an environment (the process's by default). `resolveSettings`
 * calls it; library calls made without settings call it for their defaults.
 */
export function resolvePaths(
  env: EnvLike = processEnvironment(),
  cwd: string = process.cwd(),
): FalaiPaths {
  const pendingFile = defaultPendingFile(env, cwd);
  return Object.freeze({
    home: homeDir(env),
    cwd,
    stateDir: defaultStateDir(env),
    cacheDir: defaultCacheDir(env),
    pendingFile,
    sqliteFile: pendingFile.replace(/(?:\.json)?$/i, '.db'),
  });
}

/** Every setting falai needs, resolved once at the edge and frozen. */
export interface FalaiSettings {
  readonly baseUrls: { readonly queue: string; readonly run: string; readonly rest: string };
  /**
   * The Platform API base (`https://api.fal.ai/v1`): `FALAI_API_URL` as given, else `/v1` under
   * `--base-url`, `FALAI_BASE_URL` or the config file's `baseUrl`, like every other fal host.
   */
  readonly apiUrl: string;
  /** Store spec (`file:<path>`, `sqlite:<path>`, `redis://…`); unset means the default store. */
  readonly store?: string;
  readonly outputDir: string;
  readonly modelsDir?: string;
  readonly configPath: string;
  readonly configDir: string;
  readonly openclaw: OpenclawPaths;
  /** Home, state, cache and default store locations. */
  readonly paths: FalaiPaths;
  /**
   * The keys of these settings' environment and config file, and every key resolved with
   * them (`resolveCredentials({ settings })` adds it): pass it to what prints or stores.
   */
  readonly redactor: Redactor;
  /**
   * Days finished requests stay in the store for `falai history`; `falai prune` removes older
   * ones. `0` keeps them (prune removes finished ones only when given an age). `FALAI_HISTORY_RETENTION_DAYS`, else the config
   * file's `historyRetentionDays`. @default 30
   */
  readonly historyRetentionDays: number;
  /**
   * Output downloads: a transfer that moves no byte for this long fails
   * (`FALAI_DOWNLOAD_IDLE_TIMEOUT`, a duration such as `30s`). @default 60 s (core's download)
   */
  readonly downloadIdleTimeoutMs?: number;
  /** Output downloads: the largest file accepted (`FALAI_DOWNLOAD_MAX_BYTES`). @default 4 GiB */
  readonly downloadMaxBytes?: number;
  /**
   * Spending caps from the config file's `budget` (`budget.daily`, per key, per store): hard
   * caps the lifecycle enforces through the store's budget ledger. Empty when none is set.
   */
  readonly budget: BudgetConfig;
  /** Source of each setting above, keyed by name (`baseUrls.queue`, `store`, …). */
  readonly sources: Readonly<Record<string, SettingSource>>;
}

/** Options of {@link resolveSettings}; everything defaults to the current process. */
export interface ResolveSettingsOptions {
  readonly env?: EnvLike;
  /** The redactor the settings carry. @default `environmentRedactor(env)` */
  readonly redactor?: Redactor;
  readonly cwd?: string;
  readonly flags?: {
    readonly baseUrl?: string;
    readonly store?: string;
    readonly outputDir?: string;
    readonly configPath?: string;
  };
}

interface Candidate {
  readonly value: string | undefined;
  readonly source: SettingSource;
}

function pick(candidates: readonly Candidate[]): Candidate | undefined {
  return candidates.find((candidate) => nonEmpty(candidate.value) !== undefined);
}

/** Validates and normalises a base URL (no trailing slash); the error names setting + source. */
export function normaliseBaseUrl(value: string, setting: string, source: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ConfigError(
      `Invalid ${setting} "${value}" from ${source}: not a URL. Use e.g. http://127.0.0.1:8787.`,
      { details: { setting, source } },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(
      `Invalid ${setting} "${value}" from ${source}: only http(s) URLs work. Use e.g. http://127.0.0.1:8787.`,
      { details: { setting, source } },
    );
  if (url.search || url.hash)
    throw new ConfigError(
      `Invalid ${setting} "${value}" from ${source}: remove the query string or fragment.`,
      { details: { setting, source } },
    );
  return url.toString().replace(/\/+$/, '');
}

/**
 * Resolves settings once: flags > env > config file > defaults. Each value keeps its
 * source. An invalid value throws a ConfigError naming the setting and the source.
 * The API key is not part of settings: credentials are resolved lazily (see auth).
 */
export async function resolveSettings(
  options: ResolveSettingsOptions = {},
): Promise<FalaiSettings> {
  const env = options.env ?? processEnvironment();
  const cwd = options.cwd ?? process.cwd();
  const flags = options.flags ?? {};
  const location = falaiConfigLocation(env);
  const sources: Record<string, SettingSource> = {};

  const configPath = flags.configPath
    ? expandPath(flags.configPath, env, cwd)
    : location.configPath;
  sources.configPath = flags.configPath
    ? { kind: 'flag', label: 'flag --config' }
    : sourceOf(location.pathSource);
  sources.configDir = sourceOf(location.dirSource);

  const file: FalaiConfigFile = await readConfigFile(configPath);
  const redactor = options.redactor ?? environmentRedactor(env);
  if (file.key) redactor.add(file.key);
  const fileSource: SettingSource = { kind: 'config', label: `config file ${configPath}` };
  const envSource = (name: string): SettingSource => ({ kind: 'env', label: `env ${name}` });
  const flagSource = (name: string): SettingSource => ({ kind: 'flag', label: `flag --${name}` });

  const baseUrls = {} as { queue: string; run: string; rest: string };
  for (const host of ['queue', 'run', 'rest'] as const) {
    const chosen = resolveBaseUrl(host, env, {
      flagBaseUrl: flags.baseUrl,
      fileBaseUrl: file.baseUrl,
      fileSource,
    });
    baseUrls[host] = chosen.value;
    sources[`baseUrls.${host}`] = chosen.source;
  }

  const api = resolveApiUrl(env, {
    flagBaseUrl: flags.baseUrl,
    fileBaseUrl: file.baseUrl,
    fileSource,
  });
  sources.apiUrl = api.source;

  const store = pick([
    { value: flags.store, source: flagSource('store') },
    { value: env.FALAI_STORE, source: envSource('FALAI_STORE') },
    { value: file.store, source: fileSource },
  ]);
  if (store) sources.store = store.source;

  const outputDir = pick([
    { value: flags.outputDir, source: flagSource('output-dir') },
    { value: env.FALAI_OUTPUT_DIR, source: envSource('FALAI_OUTPUT_DIR') },
    { value: file.outputDir, source: fileSource },
  ]);
  sources.outputDir = outputDir?.source ?? { kind: 'default', label: 'default' };

  const modelsDir = pick([
    { value: env.FALAI_MODELS_DIR, source: envSource('FALAI_MODELS_DIR') },
    { value: file.modelsDir, source: fileSource },
  ]);
  if (modelsDir) sources.modelsDir = modelsDir.source;

  const retention = pick([
    {
      value: env.FALAI_HISTORY_RETENTION_DAYS,
      source: envSource('FALAI_HISTORY_RETENTION_DAYS'),
    },
    { value: file.historyRetentionDays, source: fileSource },
  ]);
  let historyRetentionDays = DEFAULT_HISTORY_RETENTION_DAYS;
  if (retention?.value !== undefined) {
    const text = retention.value.trim();
    if (!/^\d{1,5}$/.test(text)) {
      throw new ConfigError(
        `Invalid historyRetentionDays "${text}" from ${retention.source.label}: use a whole number of days, e.g. 30 (0 keeps finished requests until you prune them with --older-than).`,
        { details: { setting: 'historyRetentionDays', source: retention.source.label } },
      );
    }
    historyRetentionDays = Number(text);
  }
  sources.historyRetentionDays = retention?.source ?? { kind: 'default', label: 'default' };
  if (file.budget) sources.budget = fileSource;
  const downloadIdleTimeoutMs = parseSettingDuration(
    env.FALAI_DOWNLOAD_IDLE_TIMEOUT,
    'FALAI_DOWNLOAD_IDLE_TIMEOUT',
  );
  const downloadMaxBytes = parseSettingBytes(
    env.FALAI_DOWNLOAD_MAX_BYTES,
    'FALAI_DOWNLOAD_MAX_BYTES',
  );

  sources.pendingFile = nonEmpty(env.FAL_PENDING_FILE)
    ? envSource('FAL_PENDING_FILE')
    : { kind: 'default', label: 'default' };
  const openclaw = openclawPaths(env);
  sources.openclaw = {
    kind:
      env.OPENCLAW_STATE_DIR || env.OPENCLAW_PROFILE || env.OPENCLAW_WORKSPACE_DIR
        ? 'env'
        : 'default',
    label:
      ['OPENCLAW_STATE_DIR', 'OPENCLAW_PROFILE', 'OPENCLAW_CONFIG_PATH', 'OPENCLAW_WORKSPACE_DIR']
        .filter((name) => nonEmpty(env[name]))
        .map((name) => `env ${name}`)
        .join(', ') || 'default',
  };

  const settings: FalaiSettings = {
    baseUrls: Object.freeze(baseUrls),
    apiUrl: api.value,
    ...(store?.value ? { store: store.value.trim() } : {}),
    // Default: ./falai-output; as the OpenClaw skill, <workspace>/falai-output, so outputs land
    // where the agent may attach them (openclaw.md §7) whatever directory the command runs in.
    outputDir: expandPath(
      outputDir?.value?.trim() ??
        (isOpenclawSkill(env) ? join(openclaw.workspaceDir, 'falai-output') : 'falai-output'),
      env,
      cwd,
    ),
    ...(modelsDir?.value ? { modelsDir: expandPath(modelsDir.value.trim(), env, cwd) } : {}),
    historyRetentionDays,
    ...(downloadIdleTimeoutMs === undefined ? {} : { downloadIdleTimeoutMs }),
    ...(downloadMaxBytes === undefined ? {} : { downloadMaxBytes }),
    budget: Object.freeze({ ...(file.budget ?? {}) }),
    configPath,
    configDir: location.configDir,
    openclaw: Object.freeze({ ...openclaw }),
    paths: resolvePaths(env, cwd),
    redactor,
    sources: Object.freeze(sources),
  };
  return Object.freeze(settings);
}

/** A fal host (`queue`, `run`, `rest`). */
export type FalHost = keyof typeof DEFAULT_BASE_URLS;

/**
 * One fal host's base URL and its source: `--base-url` > `FALAI_<HOST>_URL` >
 * `FALAI_BASE_URL` > the config file's `baseUrl` > fal's host. `setting` names it in the
 * error of an invalid value. Clients built without settings call it with the process
 * environment alone.
 */
export function resolveBaseUrl(
  host: FalHost,
  env: EnvLike = processEnvironment(),
  options: {
    readonly flagBaseUrl?: string | undefined;
    readonly fileBaseUrl?: string | undefined;
    readonly fileSource?: SettingSource;
    /** @default `baseUrls.<host>` */
    readonly setting?: string;
  } = {},
): { readonly value: string; readonly source: SettingSource } {
  const specific = `FALAI_${host.toUpperCase()}_URL`;
  const chosen = pick([
    { value: options.flagBaseUrl, source: { kind: 'flag', label: 'flag --base-url' } },
    { value: env[specific], source: { kind: 'env', label: `env ${specific}` } },
    { value: env.FALAI_BASE_URL, source: { kind: 'env', label: 'env FALAI_BASE_URL' } },
    {
      value: options.fileBaseUrl,
      source: options.fileSource ?? { kind: 'config', label: 'config file' },
    },
  ]);
  if (!chosen?.value)
    return { value: DEFAULT_BASE_URLS[host], source: { kind: 'default', label: 'default' } };
  const setting = options.setting ?? `baseUrls.${host}`;
  return {
    value: normaliseBaseUrl(chosen.value, setting, chosen.source.label),
    source: chosen.source,
  };
}

/**
 * The Platform API base and its source: `--base-url` (+ `/v1`) > `FALAI_API_URL` (as given) >
 * `FALAI_BASE_URL` (+ `/v1`) > the config file's `baseUrl` (+ `/v1`) > {@link DEFAULT_API_URL}.
 * Clients built without settings call it with the process environment alone.
 */
export function resolveApiUrl(
  env: EnvLike = processEnvironment(),
  options: {
    readonly flagBaseUrl?: string | undefined;
    readonly fileBaseUrl?: string | undefined;
    readonly fileSource?: SettingSource;
  } = {},
): { readonly value: string; readonly source: SettingSource } {
  const candidates: Array<Candidate & { readonly under: boolean }> = [
    { value: options.flagBaseUrl, source: { kind: 'flag', label: 'flag --base-url' }, under: true },
    { value: env.FALAI_API_URL, source: { kind: 'env', label: 'env FALAI_API_URL' }, under: false },
    {
      value: env.FALAI_BASE_URL,
      source: { kind: 'env', label: 'env FALAI_BASE_URL' },
      under: true,
    },
    {
      value: options.fileBaseUrl,
      source: options.fileSource ?? { kind: 'config', label: 'config file' },
      under: true,
    },
  ];
  const chosen = candidates.find((candidate) => nonEmpty(candidate.value) !== undefined);
  if (!chosen?.value)
    return { value: DEFAULT_API_URL, source: { kind: 'default', label: 'default' } };
  const url = normaliseBaseUrl(chosen.value, 'apiUrl', chosen.source.label);
  return { value: chosen.under ? apiUrlUnder(url) : url, source: chosen.source };
}

function sourceOf(label: string): SettingSource {
  return label === 'default' ? { kind: 'default', label } : { kind: 'env', label };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration setting (`500ms`, `30s`, `2m`, `1h`) in milliseconds; CONFIG_INVALID otherwise. */
function parseSettingDuration(text: string | undefined, name: string): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const match = /^(\d{1,9})(ms|s|m|h)$/.exec(text.trim());
  const ms = match ? Number(match[1]) * (DURATION_UNITS[match[2] as string] ?? 1) : Number.NaN;
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new ConfigError(
      `Invalid ${name} "${text.trim()}": use a duration with a unit, e.g. 30s, 500ms or 2m.`,
      { details: { setting: name } },
    );
  }
  return ms;
}

const BYTE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** A size setting (`1048576`, `512k`, `100m`, `4g`, binary units) in bytes; CONFIG_INVALID otherwise. */
function parseSettingBytes(text: string | undefined, name: string): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const match = /^(\d{1,15})([kmg]?)i?b?$/i.exec(text.trim());
  const bytes = match
    ? Number(match[1]) * (BYTE_UNITS[(match[2] ?? '').toLowerCase()] ?? 1)
    : Number.NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new ConfigError(
      `Invalid ${name} "${text.trim()}": use a number of bytes, e.g. 1048576, 512k, 100m or 4g.`,
      { details: { setting: name } },
    );
  }
  return bytes;
}

/** The download limits the settings carry, as `saveOutputs` / `downloadOutputs` options. */
export function downloadLimits(
  settings: Pick<FalaiSettings, 'downloadIdleTimeoutMs' | 'downloadMaxBytes'>,
): {
  idleTimeoutMs?: number;
  maxBytes?: number;
  maxBytesHint: string;
} {
  return {
    ...(settings.downloadIdleTimeoutMs === undefined
      ? {}
      : { idleTimeoutMs: settings.downloadIdleTimeoutMs }),
    ...(settings.downloadMaxBytes === undefined ? {} : { maxBytes: settings.downloadMaxBytes }),
    maxBytesHint: 'FALAI_DOWNLOAD_MAX_BYTES',
  };
}
