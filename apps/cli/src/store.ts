import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { FalaiSettings, PendingStore, StoreDrivers } from '@falai/core';
import { StoreError } from '@falai/core';

/**
 * How the CLI loads the store adapters: literal imports, so the bundle inlines the pure-JS
 * ones and `falai list` with the default file store never loads better-sqlite3 or ioredis.
 * A missing better-sqlite3 (e.g. in the single-file bundle) is one clear line.
 */
export const CLI_STORE_DRIVERS: StoreDrivers = {
  file: () => import('@falai/store-file'),
  sqlite: async () => {
    assertResolvable('better-sqlite3', 'sqlite');
    return import('@falai/store-sqlite');
  },
  redis: () => import('@falai/store-redis'),
};

/**
 * Opens the store a spec names (core's `openStore` with the CLI's adapters). With no spec,
 * the default file store (`FAL_PENDING_FILE`, the OpenClaw workspace file, or
 * `$XDG_STATE_HOME/falai/pending.json`). What a migration of the seed's pending file could
 * not map exactly is said on stderr (`onWarning` overrides that).
 */
export async function openStore(
  spec: string | undefined,
  settings: Pick<FalaiSettings, 'paths' | 'redactor'>,
  options: { readonly onWarning?: (message: string) => void } = {},
): Promise<PendingStore> {
  const core = await import('@falai/core');
  return core.openStore(spec, {
    locations: settings.paths,
    redactor: settings.redactor,
    drivers: CLI_STORE_DRIVERS,
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  });
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

/** The seed's statuses that mean a request is still waiting at fal. */
const ACTIVE = new Set(['IN_QUEUE', 'QUEUED', 'IN_PROGRESS', 'RUNNING']);

/**
 * The seed skill kept its requests in the OpenClaw workspace (`~/.openclaw/workspace/
 * fal-pending.json`); falai at a terminal keeps its own under `$XDG_STATE_HOME`. When the
 * default store is in use and that workspace file still holds pending requests, this says
 * where they are and how to use them; otherwise undefined. It never reads the file's
 * requests beyond their status, and never changes the file.
 */
export async function seedFileHint(settings: FalaiSettings): Promise<string | undefined> {
  if (settings.store || settings.sources.pendingFile?.kind === 'env') return undefined;
  const seedPath = join(settings.openclaw.workspaceDir, 'fal-pending.json');
  if (resolve(seedPath) === resolve(settings.paths.pendingFile)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(await readFile(seedPath, 'utf8'));
  } catch {
    return undefined; // no file there (the usual case), or not JSON: nothing to point at
  }
  const { isSeedPendingFile } = await import('@falai/core/internal');
  let pending: number;
  if (isSeedPendingFile(json)) {
    // Counted from the seed's own entries: opening it as a store would migrate it.
    pending = json.requests.filter((entry) => {
      const status = entry.status;
      return typeof status !== 'string' || ACTIVE.has(status.trim().toUpperCase());
    }).length;
  } else {
    // Already falai's format (the skill migrated it, or it was used with --store): read it
    // through the store, which knows its journal.
    const store = await openStore(`file:${seedPath}`, settings).catch(() => undefined);
    if (!store) return undefined;
    try {
      pending = (await store.list({ status: ['queued', 'running'] })).length;
    } catch {
      return undefined;
    } finally {
      await store.close().catch(() => undefined);
    }
  }
  if (pending === 0) return undefined;
  const spec = `file:${seedPath}`;
  return (
    `${pending} pending request${pending === 1 ? ' is' : 's are'} in the OpenClaw workspace file ${seedPath} (where the seed skill kept them), which is not falai's store here. ` +
    `See them with: falai list --store ${spec}  ·  adopt the file for good: falai config set store ${spec} (or export FAL_PENDING_FILE=${seedPath}).` +
    (isSeedPendingFile(json)
      ? ' falai converts it to its own format on first use and keeps a backup beside it.'
      : '')
  );
}
