import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/** Where OpenClaw keeps its state, its config file and the agent workspace. */
export interface OpenclawPaths {
  /** `OPENCLAW_STATE_DIR`, `~/.openclaw-<profile>` or `~/.openclaw`. */
  readonly stateDir: string;
  /** `OPENCLAW_CONFIG_PATH` or `<stateDir>/openclaw.json`. */
  readonly configPath: string;
  /** `OPENCLAW_WORKSPACE_DIR` or `<stateDir>/workspace`. */
  readonly workspaceDir: string;
}

/** An environment-like object: only string values matter. */
export type EnvLike = Readonly<Record<string, string | undefined>>;

/**
 * The home directory as the given environment sees it, so tests can point HOME at a
 * temp dir without touching the real one.
 */
export function homeDir(env: EnvLike): string {
  const fromEnv = nonEmpty(env.HOME) ?? nonEmpty(env.USERPROFILE);
  return fromEnv ?? homedir();
}

/** Expands a leading `~` and makes the path absolute against `base`. */
export function expandPath(path: string, env: EnvLike, base: string = process.cwd()): string {
  return expandPathFrom(path, homeDir(env), base);
}

/** {@link expandPath} with the home directory already known (`settings.paths.home`). */
export function expandPathFrom(path: string, home: string, base: string): string {
  let expanded = path;
  if (expanded === '~') expanded = home;
  else if (expanded.startsWith('~/') || expanded.startsWith('~\\'))
    expanded = join(home, expanded.slice(2));
  return isAbsolute(expanded) ? expanded : resolve(base, expanded);
}

/**
 * OpenClaw's own path rules (openclaw.md §2.1/§3.1): the state dir moves with
 * `OPENCLAW_STATE_DIR` or a named `OPENCLAW_PROFILE`; the config file and the
 * workspace follow the state dir unless their own variables override them.
 */
export function openclawPaths(env: EnvLike): OpenclawPaths {
  const home = homeDir(env);
  const profile = nonEmpty(env.OPENCLAW_PROFILE);
  const stateOverride = nonEmpty(env.OPENCLAW_STATE_DIR);
  const stateDir = stateOverride
    ? expandPath(stateOverride, env, home)
    : profile && profile !== 'default'
      ? join(home, `.openclaw-${profile}`)
      : join(home, '.openclaw');
  const configOverride = nonEmpty(env.OPENCLAW_CONFIG_PATH);
  const workspaceOverride = nonEmpty(env.OPENCLAW_WORKSPACE_DIR);
  return {
    stateDir,
    configPath: configOverride
      ? expandPath(configOverride, env, home)
      : join(stateDir, 'openclaw.json'),
    workspaceDir: workspaceOverride
      ? expandPath(workspaceOverride, env, home)
      : join(stateDir, 'workspace'),
  };
}

/** Where falai's own config lives, and which variable decided it. */
export interface FalaiConfigLocation {
  readonly configDir: string;
  readonly configPath: string;
  /** e.g. `env FALAI_CONFIG`, `env XDG_CONFIG_HOME`, `default`. */
  readonly dirSource: string;
  readonly pathSource: string;
}

/**
 * falai's config file: `$FALAI_CONFIG` (a file), else `$FALAI_CONFIG_DIR/config.json`,
 * else `$XDG_CONFIG_HOME/falai/config.json`, else `~/.config/falai/config.json`.
 */
export function falaiConfigLocation(env: EnvLike): FalaiConfigLocation {
  const home = homeDir(env);
  const dirOverride = nonEmpty(env.FALAI_CONFIG_DIR);
  const xdg = nonEmpty(env.XDG_CONFIG_HOME);
  let configDir: string;
  let dirSource: string;
  if (dirOverride) {
    configDir = expandPath(dirOverride, env, home);
    dirSource = 'env FALAI_CONFIG_DIR';
  } else if (xdg) {
    configDir = join(expandPath(xdg, env, home), 'falai');
    dirSource = 'env XDG_CONFIG_HOME';
  } else {
    configDir = join(home, '.config', 'falai');
    dirSource = 'default';
  }
  const fileOverride = nonEmpty(env.FALAI_CONFIG);
  return fileOverride
    ? {
        configDir,
        configPath: expandPath(fileOverride, env, home),
        dirSource,
        pathSource: 'env FALAI_CONFIG',
      }
    : { configDir, configPath: join(configDir, 'config.json'), dirSource, pathSource: dirSource };
}

/** Treats empty strings like unset variables, as shells often export `X=`. */
export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/**
 * True when falai runs as the OpenClaw skill: the skill's `scripts/falai.mjs` wrapper sets
 * `FALAI_SKILL=openclaw`, and defaults (pending file, output folder) then follow the workspace.
 */
export function isOpenclawSkill(env: EnvLike): boolean {
  return nonEmpty(env.FALAI_SKILL)?.toLowerCase() === 'openclaw';
}

/**
 * falai's cache folder (catalogue, prices), as oclif picks it for the CLI: `FALAI_CACHE_DIR`,
 * else `$XDG_CACHE_HOME/falai`, else `~/.cache/falai`.
 */
export function defaultCacheDir(env: EnvLike): string {
  const explicit = nonEmpty(env.FALAI_CACHE_DIR);
  if (explicit) return expandPath(explicit, env, homeDir(env));
  const xdg = nonEmpty(env.XDG_CACHE_HOME);
  return join(xdg ? expandPath(xdg, env, homeDir(env)) : join(homeDir(env), '.cache'), 'falai');
}

/**
 * The directory falai keeps state in: `$XDG_STATE_HOME/falai` (when absolute), default
 * `~/.local/state/falai` (XDG base directory spec).
 */
export function defaultStateDir(env: EnvLike): string {
  const xdg = env.XDG_STATE_HOME?.trim();
  const base = xdg && isAbsolute(xdg) ? xdg : join(homeDir(env), '.local', 'state');
  return join(base, 'falai');
}

/**
 * The file store's default path. Chosen so that nothing is lost in the move from the seed:
 * 1. `FAL_PENDING_FILE`, exactly like the seed skill;
 * 2. when running as the OpenClaw skill (`FALAI_SKILL=openclaw`, set by the skill's wrapper),
 *    `fal-pending.json` in the OpenClaw workspace, the seed's file, migrated in place;
 * 3. otherwise `$XDG_STATE_HOME/falai/pending.json` (default `~/.local/state/falai/pending.json`),
 *    so a terminal user's state never lands inside an agent workspace.
 */
export function defaultPendingFile(env: EnvLike, cwd: string): string {
  const explicit = env.FAL_PENDING_FILE?.trim();
  if (explicit) return expandPath(explicit, env, cwd);
  if (isOpenclawSkill(env)) return join(openclawPaths(env).workspaceDir, 'fal-pending.json');
  return join(defaultStateDir(env), 'pending.json');
}
