import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as v from 'valibot';
import { ConfigError } from '../errors/index.js';
import { assertSafePath } from '../json/unsafe-keys.js';
import { maskKey } from '../redact/mask.js';
import {
  BudgetConfigSchema,
  budgetEntries,
  budgetValue,
  isBudgetConfigKey,
  parseBudgetKey,
  withBudgetValue,
  withoutBudgetValue,
} from './budget.js';

/** The keys falai's own config file may hold. */
export const CONFIG_KEYS = [
  'key',
  'store',
  'outputDir',
  'modelsDir',
  'baseUrl',
  'historyRetentionDays',
] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

const nonEmptyString = (name: string) =>
  v.pipe(v.string(`${name} must be a string`), v.trim(), v.minLength(1, `${name} is empty`));

const httpUrl = v.pipe(
  nonEmptyString('baseUrl'),
  v.check((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'baseUrl must be an http(s) URL such as http://127.0.0.1:8787'),
);

const falKey = v.pipe(
  nonEmptyString('key'),
  v.check((value) => value.includes(':'), 'key must look like <key_id>:<key_secret>'),
);

/** Days finished requests stay for `falai history` (a number, or its digits as `config set` writes). */
const retentionDays = v.pipe(
  v.union([v.string(), v.number()], 'historyRetentionDays must be a number of days'),
  v.transform(String),
  v.trim(),
  v.regex(
    /^\d{1,5}$/,
    'historyRetentionDays must be a whole number of days (0 keeps finished requests for ever)',
  ),
);

/** falai's config file. Unknown keys are rejected so typos do not pass silently. */
export const FalaiConfigFileSchema = v.strictObject(
  {
    key: v.optional(falKey),
    store: v.optional(nonEmptyString('store')),
    outputDir: v.optional(nonEmptyString('outputDir')),
    modelsDir: v.optional(nonEmptyString('modelsDir')),
    baseUrl: v.optional(httpUrl),
    historyRetentionDays: v.optional(retentionDays),
    /** Spending caps (`budget.daily`, per key, per store): see `BudgetConfigSchema`. */
    budget: v.optional(BudgetConfigSchema),
  },
  'unknown key',
);
export type FalaiConfigFile = v.InferOutput<typeof FalaiConfigFileSchema>;

/** True for the names `config set` accepts. */
export function isConfigKey(value: string): value is ConfigKey {
  return (CONFIG_KEYS as readonly string[]).includes(value);
}

function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .map((issue) => {
      const key = issue.path?.map((item) => String(item.key)).join('.') ?? '';
      if (issue.type === 'strict_object' || issue.kind === 'schema') {
        if (key && !isConfigKey(key))
          return `unknown key "${key}" (valid keys: ${CONFIG_KEYS.join(', ')})`;
      }
      return key ? `${key}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

/** Validates a parsed config object; errors name the file so the user can open it. */
export function parseConfigFile(value: unknown, path: string): FalaiConfigFile {
  const result = v.safeParse(FalaiConfigFileSchema, value);
  if (result.success) return result.output;
  throw new ConfigError(
    `Invalid falai config file ${path}: ${describeIssues(result.issues)}. Fix or remove the entry (falai config unset <key>).`,
    { details: { path, issues: result.issues.map((issue) => issue.message) } },
  );
}

/**
 * Reads falai's config file (`settings.configPath`); a missing file is an empty config.
 */
export async function readConfigFile(configPath: string): Promise<FalaiConfigFile> {
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(
      `Cannot read falai config file ${configPath}: ${(error as Error).message}. Check its permissions.`,
      { cause: error, details: { path: configPath } },
    );
  }
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      `falai config file ${configPath} is not valid JSON (${(error as Error).message}). Fix it or delete it.`,
      { cause: error, details: { path: configPath } },
    );
  }
  return parseConfigFile(parsed, configPath);
}

/**
 * Writes the config atomically (temp file + rename) with mode 0600, because it can
 * hold the API key.
 */
export async function writeConfigFile(config: FalaiConfigFile, configPath: string): Promise<void> {
  const valid = parseConfigFile(config, configPath);
  await mkdir(dirname(configPath), { recursive: true, mode: 0o700 });
  const temp = `${configPath}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(valid, null, 2)}\n`, { mode: 0o600 });
    await chmod(temp, 0o600);
    await rename(temp, configPath);
  } catch (error) {
    await rm(temp, { force: true });
    throw new ConfigError(
      `Cannot write falai config file ${configPath}: ${(error as Error).message}.`,
      { cause: error, details: { path: configPath } },
    );
  }
}

function assertKey(key: string): asserts key is ConfigKey {
  // __proto__ & co. are refused as input (INPUT_INVALID), before they reach `{ [key]: … }`
  // or any lookup: they would read or write Object.prototype instead of a config entry.
  assertSafePath(key.split('.'), `config key "${key}"`);
  if (!isConfigKey(key))
    throw new ConfigError(`Unknown config key "${key}". Valid keys: ${CONFIG_KEYS.join(', ')}.`, {
      details: { key, validKeys: CONFIG_KEYS },
    });
}

/** Sets one key after validating it; returns the new config. */
export async function setConfigValue(
  key: string,
  value: string,
  configPath: string,
): Promise<FalaiConfigFile> {
  if (isBudgetConfigKey(key)) {
    assertSafePath(key.split('.'), `config key "${key}"`);
    const current = await readConfigFile(configPath);
    const budget = withBudgetValue(current.budget, parseBudgetKey(key), value);
    const next = parseConfigFile({ ...current, budget }, configPath);
    await writeConfigFile(next, configPath);
    return next;
  }
  assertKey(key);
  const current = await readConfigFile(configPath);
  const next = { ...current, [key]: value };
  const result = v.safeParse(FalaiConfigFileSchema, next);
  if (!result.success) {
    // Never echo the value: it may be the API key.
    throw new ConfigError(
      `Invalid value for config key "${key}": ${describeIssues(result.issues)}.`,
      {
        details: { key, path: configPath },
      },
    );
  }
  await writeConfigFile(result.output, configPath);
  return result.output;
}

/** Removes one key; returns true when it was set. */
export async function unsetConfigValue(key: string, configPath: string): Promise<boolean> {
  if (isBudgetConfigKey(key)) {
    assertSafePath(key.split('.'), `config key "${key}"`);
    const current = await readConfigFile(configPath);
    const { budget, removed } = withoutBudgetValue(current.budget, parseBudgetKey(key));
    if (!removed) return false;
    const next: Record<string, unknown> = { ...current, budget };
    if (budget === undefined) delete next.budget;
    await writeConfigFile(next as FalaiConfigFile, configPath);
    return true;
  }
  assertKey(key);
  const current = await readConfigFile(configPath);
  if (!Object.hasOwn(current, key) || current[key] === undefined) return false;
  const next: Record<string, unknown> = { ...current };
  delete next[key];
  await writeConfigFile(next as FalaiConfigFile, configPath);
  return true;
}

/** The config as `config list`/`config get` may print it: the API key masked, never whole. */
export function displayConfig(config: FalaiConfigFile): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const key of CONFIG_KEYS) {
    const value = Object.hasOwn(config, key) ? config[key] : undefined;
    if (value !== undefined) shown[key] = key === 'key' ? maskKey(value) : value;
  }
  for (const [name, usd] of Object.entries(budgetEntries(config.budget))) shown[name] = String(usd);
  return shown;
}

/**
 * One value of the config file by its `config get` key (`store`, `budget.daily`,
 * `budget.key.<key id>.daily`, …), as stored (the key unmasked: mask it before showing it).
 */
export function configValue(config: FalaiConfigFile, key: string): string | number | undefined {
  if (isBudgetConfigKey(key)) return budgetValue(config.budget, parseBudgetKey(key));
  assertKey(key);
  return Object.hasOwn(config, key) ? config[key] : undefined;
}
