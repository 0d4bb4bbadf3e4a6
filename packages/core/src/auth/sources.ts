import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readConfigFile } from '../config/config-file.js';
import { type EnvLike, falaiConfigLocation, nonEmpty, openclawPaths } from '../config/paths.js';
import { type FalaiSettings, processEnvironment } from '../config/settings.js';
import { FalaiError } from '../errors/index.js';
import { findKeyInMarkdown, toolsSection } from './markdown-key.js';
import { unquoteKey } from './quotes.js';

/** What one source yielded: a key, or why not. */
export interface SourceReading {
  readonly key?: string;
  /** `found`, `not set`, `file not found`, `no key in ## Tools section`, … */
  readonly result: string;
}

/** One place a FAL_KEY can come from, in resolution order. */
export interface CredentialSource {
  /** e.g. `env FAL_KEY`, `TOOLS.md (/home/me/.openclaw/workspace/TOOLS.md)`. */
  readonly source: string;
  /** How to put a key there. */
  readonly fix: string;
  read(): Promise<SourceReading>;
}

/** Inputs shared by every source. */
export interface CredentialSourceOptions {
  /** A key given explicitly (a `--key` flag or a program option); wins over everything. */
  readonly explicitKey?: string;
  readonly env?: EnvLike;
  /** Resolved settings; supply them to reuse their OpenClaw and config paths. */
  readonly settings?: FalaiSettings;
}

/** The skill key under `skills.entries` in openclaw.json. */
const SKILL_KEY = 'falai';
const KEY_FORMAT = '<key_id>:<key_secret>';

async function readText(path: string): Promise<{ text?: string; result?: string }> {
  try {
    return { text: await readFile(path, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { result: 'file not found' };
    return { result: `unreadable (${code ?? (error as Error).message})` };
  }
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * Every credential source in order (Foundation issue §2): explicit option; `FAL_KEY`;
 * `FAL_KEY_ID`+`FAL_KEY_SECRET`; openclaw.json `skills.entries.falai.apiKey` and
 * `.env.FAL_KEY`; the workspace's `TOOLS.md`; the `## Tools` section of `AGENTS.md`;
 * falai's own config file. Files are read only when a source is probed.
 */
export function credentialSources(options: CredentialSourceOptions = {}): CredentialSource[] {
  const env = options.env ?? processEnvironment();
  const openclaw = options.settings?.openclaw ?? openclawPaths(env);
  const configPath = options.settings?.configPath ?? falaiConfigLocation(env).configPath;

  let openclawConfig: Promise<{ entry?: Record<string, unknown>; result?: string }> | undefined;
  const loadOpenclawEntry = () => {
    openclawConfig ??= (async () => {
      const { text, result } = await readText(openclaw.configPath);
      if (text === undefined) return { result: result ?? 'file not found' };
      let parsed: unknown;
      try {
        const JSON5 = (await import('json5')).default;
        parsed = JSON5.parse(text);
      } catch (error) {
        return { result: `invalid JSON5 (${(error as Error).message})` };
      }
      const entry = record(record(record(record(parsed)?.skills)?.entries)?.[SKILL_KEY]);
      if (!entry) return { result: `no skills.entries.${SKILL_KEY} entry` };
      if (entry.enabled === false) return { result: `skills.entries.${SKILL_KEY} is disabled` };
      return { entry };
    })();
    return openclawConfig;
  };

  const workspaceFile = (name: string) => join(openclaw.workspaceDir, name);
  const toolsPath = workspaceFile('TOOLS.md');
  const agentsPath = workspaceFile('AGENTS.md');

  return [
    {
      source: 'explicit option (--key)',
      fix: `pass --key ${KEY_FORMAT}`,
      read: async () => {
        const key = nonEmpty(options.explicitKey);
        return key ? { key: key.trim(), result: 'found' } : { result: 'not given' };
      },
    },
    {
      source: 'env FAL_KEY',
      fix: `export FAL_KEY=${KEY_FORMAT} (create a key at https://fal.ai/dashboard/keys)`,
      read: async () => {
        const key = nonEmpty(env.FAL_KEY);
        return key ? { key: key.trim(), result: 'found' } : { result: 'not set' };
      },
    },
    {
      source: 'env FAL_KEY_ID + FAL_KEY_SECRET',
      fix: 'export FAL_KEY_ID=<key_id> FAL_KEY_SECRET=<key_secret>',
      read: async () => {
        // Each half may be quoted on its own (FAL_KEY_ID="…" in a .env file).
        const id = nonEmpty(env.FAL_KEY_ID) && unquoteKey(env.FAL_KEY_ID ?? '').key;
        const secret = nonEmpty(env.FAL_KEY_SECRET) && unquoteKey(env.FAL_KEY_SECRET ?? '').key;
        if (id && secret) return { key: `${id}:${secret}`, result: 'found' };
        if (id) return { result: 'FAL_KEY_ID set but FAL_KEY_SECRET missing' };
        if (secret) return { result: 'FAL_KEY_SECRET set but FAL_KEY_ID missing' };
        return { result: 'not set' };
      },
    },
    {
      source: `openclaw.json skills.entries.${SKILL_KEY}.apiKey (${openclaw.configPath})`,
      fix: `openclaw config set skills.entries.${SKILL_KEY}.apiKey ${KEY_FORMAT}`,
      read: async () => {
        const { entry, result } = await loadOpenclawEntry();
        if (!entry) return { result: result ?? 'not set' };
        const apiKey = entry.apiKey;
        if (typeof apiKey === 'string')
          return nonEmpty(apiKey) ? { key: apiKey.trim(), result: 'found' } : { result: 'empty' };
        const ref = record(apiKey);
        if (ref) {
          // OpenClaw SecretRef: { source: "env", provider, id }. Only env refs can be
          // followed outside the gateway.
          if (ref.source === 'env' && typeof ref.id === 'string') {
            const value = nonEmpty(env[ref.id]);
            return value
              ? { key: value.trim(), result: `found (via env ${ref.id})` }
              : { result: `secret reference to env ${ref.id}, which is not set` };
          }
          return { result: `secret reference (source ${String(ref.source)}) is not supported` };
        }
        return { result: 'not set' };
      },
    },
    {
      source: `openclaw.json skills.entries.${SKILL_KEY}.env.FAL_KEY (${openclaw.configPath})`,
      fix: `openclaw config set skills.entries.${SKILL_KEY}.env.FAL_KEY ${KEY_FORMAT}`,
      read: async () => {
        const { entry, result } = await loadOpenclawEntry();
        if (!entry) return { result: result ?? 'not set' };
        const value = record(entry.env)?.FAL_KEY;
        return typeof value === 'string' && nonEmpty(value)
          ? { key: value.trim(), result: 'found' }
          : { result: 'not set' };
      },
    },
    {
      source: `TOOLS.md (${toolsPath})`,
      fix: `add a line "FAL_KEY: ${KEY_FORMAT}" to ${toolsPath} (legacy; prefer the OpenClaw config)`,
      read: async () => {
        const { text, result } = await readText(toolsPath);
        if (text === undefined) return { result: result ?? 'file not found' };
        const key = findKeyInMarkdown(text);
        return key ? { key, result: 'found' } : { result: 'no FAL_KEY line' };
      },
    },
    {
      source: `AGENTS.md ## Tools (${agentsPath})`,
      fix: `add "FAL_KEY: ${KEY_FORMAT}" under the "## Tools" heading of ${agentsPath}`,
      read: async () => {
        const { text, result } = await readText(agentsPath);
        if (text === undefined) return { result: result ?? 'file not found' };
        const section = toolsSection(text);
        if (section === undefined) return { result: 'no ## Tools section' };
        const key = findKeyInMarkdown(section);
        return key ? { key, result: 'found' } : { result: 'no FAL_KEY line in ## Tools section' };
      },
    },
    {
      source: `falai config file (${configPath})`,
      fix: `falai config set key ${KEY_FORMAT}`,
      read: async () => {
        try {
          const config = await readConfigFile(configPath);
          return config.key ? { key: config.key, result: 'found' } : { result: 'no key set' };
        } catch (error) {
          // A broken config file must not hide keys elsewhere; report it as this source's result.
          return {
            result: FalaiError.isInstance(error) ? `invalid (${error.message})` : 'unreadable',
          };
        }
      },
    },
  ];
}
