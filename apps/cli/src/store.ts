import { createRequire } from 'node:module';
import type { PendingStore } from '@falai/core';
import { StoreError } from '@falai/core';

/**
 * Opens the store a spec names, importing only that driver: `falai list` with the default
 * file store never loads better-sqlite3 or ioredis. With no spec, the default file store
 * (`FAL_PENDING_FILE`, the OpenClaw workspace file, or `$XDG_STATE_HOME/falai/pending.json`).
 */
export async function openStore(
  spec: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<PendingStore> {
  const { defaultPendingFile, parseStoreSpec } = await import('@falai/core');
  const parsed = spec
    ? parseStoreSpec(spec, env)
    : { kind: 'file' as const, path: defaultPendingFile(env) };
  switch (parsed.kind) {
    case 'memory': {
      const { createMemoryStore } = await import('@falai/core');
      return createMemoryStore();
    }
    case 'file': {
      const { createFileStore } = await importDriver(() => import('@falai/store-file'), 'file');
      return createFileStore({ path: parsed.path });
    }
    case 'sqlite': {
      assertResolvable('better-sqlite3', 'sqlite');
      const { createSqliteStore } = await importDriver(
        () => import('@falai/store-sqlite'),
        'sqlite',
      );
      return createSqliteStore({ path: parsed.path });
    }
    case 'redis': {
      const { createRedisStore } = await importDriver(() => import('@falai/store-redis'), 'redis');
      return createRedisStore({
        url: parsed.url,
        ...(parsed.prefix === undefined ? {} : { prefix: parsed.prefix }),
      });
    }
  }
}

/**
 * Checks that a native module can be found before a store needs it, so a missing
 * better-sqlite3 (e.g. in the single-file bundle) is one clear line, not a require stack.
 */
function assertResolvable(name: string, kind: string): void {
  // From falai itself (bundled builds inline the driver) or from the driver's own package.
  const bases = [import.meta.url];
  try {
    bases.push(import.meta.resolve(`@falai/store-${kind}`));
  } catch {}
  let lastError: unknown;
  for (const base of bases) {
    try {
      createRequire(base).resolve(name);
      return;
    } catch (error) {
      lastError = error;
    }
  }
  throw new StoreError(
    'STORE_ERROR',
    `The ${kind} store needs ${name}, which is not installed here. Install it next to falai (npm install ${name}) or choose another store with --store file:<path>.`,
    { store: kind, operation: 'open', cause: lastError },
  );
}

/** Imports a store driver; a missing native module becomes an actionable STORE_ERROR. */
async function importDriver<T>(load: () => Promise<T>, kind: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const native =
      kind === 'sqlite' ? 'better-sqlite3' : kind === 'redis' ? 'ioredis' : `@falai/store-${kind}`;
    throw new StoreError(
      'STORE_ERROR',
      `The ${kind} store needs ${native}, which could not be loaded (${(error as Error).message}). Install it next to falai (npm install ${native}) or choose another store with --store file:<path>.`,
      { store: kind, operation: 'open', cause: error },
    );
  }
}
