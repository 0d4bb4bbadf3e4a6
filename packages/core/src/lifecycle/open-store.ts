import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EnvLike } from '../config/paths.js';
import { processEnvironment } from '../config/settings.js';
import { StoreError } from '../errors/falai-error.js';
import { createMemoryStore } from '../store/memory.js';
import type { StoreRedactorOption } from '../store/ops.js';
import { parseStoreSpec, type StoreLocations, type StoreSpec } from '../store/spec.js';
import type { PendingStore } from '../store/types.js';

/** What `@falai/store-file` exports that opening a file store needs. */
export interface FileStoreModule {
  createFileStore(
    options: {
      readonly path: string;
      readonly onWarning?: (message: string) => void;
    } & StoreRedactorOption,
  ): PendingStore;
  /** Test hooks the file store reads from the environment (optional). */
  testHooksFromEnv?(env: EnvLike): Record<string, unknown>;
}
/** What `@falai/store-sqlite` exports that opening a SQLite store needs. */
export interface SqliteStoreModule {
  createSqliteStore(options: { readonly path: string } & StoreRedactorOption): PendingStore;
}
/** What `@falai/store-redis` exports that opening a Redis store needs. */
export interface RedisStoreModule {
  createRedisStore(
    options: { readonly url: string; readonly prefix?: string | undefined } & StoreRedactorOption,
  ): PendingStore;
}

/**
 * How each store adapter is loaded. The adapters are separate packages that depend on
 * `@falai/core`, so core never imports them statically (that would be a package cycle): by
 * default they are imported by name at run time, from beside `@falai/core` or from the
 * application (its working directory, then its main script). An application that bundles
 * (the CLI does) passes loaders with literal `import('@falai/store-…')` calls instead.
 */
export interface StoreDrivers {
  readonly file?: () => Promise<FileStoreModule>;
  readonly sqlite?: () => Promise<SqliteStoreModule>;
  readonly redis?: () => Promise<RedisStoreModule>;
}

/** Options of {@link openStore}; `redactor` (`settings.redactor`) goes to the store. */
export interface OpenStoreOptions extends StoreRedactorOption {
  /**
   * Where a spec's paths are resolved and the default file store lives (`settings.paths`).
   * @default the process's (`resolvePaths()`)
   */
  readonly locations?: StoreLocations;
  /**
   * Where the file store's test hooks are read from (`testHooksFromEnv`), nothing else.
   * @default the process environment
   */
  readonly env?: EnvLike;
  readonly drivers?: StoreDrivers;
  /**
   * What a migration of the seed's pending file could not map exactly (file store). Default:
   * one line on stderr, since it happens once and must not go unseen.
   */
  readonly onWarning?: (message: string) => void;
}

const PACKAGES = {
  file: '@falai/store-file',
  sqlite: '@falai/store-sqlite',
  redis: '@falai/store-redis',
} as const;

/** The native module each adapter needs, for the message when it cannot be loaded. */
const NATIVE = { file: '@falai/store-file', sqlite: 'better-sqlite3', redis: 'ioredis' } as const;

/**
 * Opens the store a spec names (`file:<path>`, `sqlite:<path>`, `redis://…`, `memory`, as in
 * `FALAI_STORE`, `--store` or the config file), loading only that adapter. Without a spec,
 * the default file store: `FAL_PENDING_FILE`, the OpenClaw workspace file when running as
 * the skill, else `$XDG_STATE_HOME/falai/pending.json`. An adapter that cannot be loaded is
 * a `STORE_ERROR` saying what to install or which other store to choose.
 */
export async function openStore(
  spec: string | StoreSpec | undefined,
  options: OpenStoreOptions = {},
): Promise<PendingStore> {
  const parsed: StoreSpec =
    typeof spec === 'object' ? spec : parseStoreSpec(spec ?? 'file', options.locations);
  const drivers = options.drivers ?? {};
  const redactor = options.redactor === undefined ? {} : { redactor: options.redactor };
  switch (parsed.kind) {
    case 'memory':
      return createMemoryStore(redactor);
    case 'file': {
      const module = await loadDriver('file', drivers.file);
      return module.createFileStore({
        path: parsed.path,
        ...redactor,
        onWarning:
          options.onWarning ??
          ((message) => process.stderr.write(`Warning: seed file migration: ${message}\n`)),
        ...(module.testHooksFromEnv?.(options.env ?? processEnvironment()) ?? {}),
      });
    }
    case 'sqlite': {
      const module = await loadDriver('sqlite', drivers.sqlite);
      return module.createSqliteStore({ path: parsed.path, ...redactor });
    }
    case 'redis': {
      const module = await loadDriver('redis', drivers.redis);
      return module.createRedisStore({
        url: parsed.url,
        ...redactor,
        prefix: parsed.prefix,
      });
    }
  }
}

/** Loads an adapter with the caller's loader, else by name; a failure is one clear STORE_ERROR. */
async function loadDriver<K extends keyof typeof PACKAGES>(
  kind: K,
  loader: (() => Promise<unknown>) | undefined,
): Promise<Required<StoreDrivers>[K] extends () => Promise<infer M> ? M : never> {
  type Module = Required<StoreDrivers>[K] extends () => Promise<infer M> ? M : never;
  try {
    return (await (loader ?? (() => importByName(PACKAGES[kind])))()) as Module;
  } catch (error) {
    if (error instanceof StoreError) throw error;
    const native: string = NATIVE[kind];
    const also = native === PACKAGES[kind] ? '' : ` (and ${PACKAGES[kind]})`;
    throw new StoreError(
      'STORE_ERROR',
      `The ${kind} store needs ${native}${also}, which could not be loaded (${(error as Error).message}). Install it next to your application (npm install ${native}) or choose another store with --store file:<path> (FALAI_STORE).`,
      { store: kind, operation: 'open', cause: error },
    );
  }
}

/**
 * Imports a package by name: from beside `@falai/core` first, then from the application (its
 * working directory, then the folder of its main script), where an application that depends
 * on the adapter has it.
 */
async function importByName(name: string): Promise<unknown> {
  let first: unknown;
  try {
    return await import(/* @vite-ignore */ name);
  } catch (error) {
    first = error;
  }
  const bases = [join(process.cwd(), 'package.json')];
  if (process.argv[1]) bases.push(process.argv[1]);
  for (const base of bases) {
    let path: string;
    try {
      path = createRequire(base).resolve(name);
    } catch {
      continue;
    }
    return import(/* @vite-ignore */ pathToFileURL(path).href);
  }
  throw first;
}
