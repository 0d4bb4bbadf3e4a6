import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as root from '../src/index.js';
import * as internal from '../src/internal.js';
import * as kit from '../src/store-kit.js';

/**
 * Every value `@falai/core` exports (types are checked by the compiler, not here). Adding a
 * name to the application API is a decision: add it here in the same change, or export it
 * from `@falai/core/internal` (front ends) or `@falai/core/store-kit` (store authors).
 */
const ROOT_VALUES = [
  'ACTIVE_STATUSES',
  'AbortedError',
  'ApiError',
  'AuthError',
  'BATCH_TAGS',
  'BalanceOutputSchema',
  'BudgetError',
  'CancelOutputSchema',
  'CheckKeyOutputSchema',
  'ConfigError',
  'ConfigGetOutputSchema',
  'ConfigListOutputSchema',
  'ConfigSetOutputSchema',
  'CostEstimateOutputSchema',
  'CredentialSourceSchema',
  'DEFAULT_API_URL',
  'DEFAULT_BASE_URLS',
  'DEFAULT_BATCH_CONCURRENCY',
  'DEFAULT_HISTORY_RETENTION_DAYS',
  'DataUriOutputSchema',
  'DownloadOutputSchema',
  'EmulatorOutputSchema',
  'ErrorBodySchema',
  'ErrorOutputSchema',
  'EstimateFieldsSchema',
  'FalaiError',
  'ForgetOutputSchema',
  'HistoryOutputSchema',
  'InputError',
  'InspectOutputSchema',
  'ListOutputSchema',
  'LogLineSchema',
  'MAX_BATCH_ROWS',
  'MAX_BUDGET_USD',
  'MAX_RESERVATION_TTL_MS',
  'MediaError',
  'ModelDefinitionSchema',
  'ModelInfoOutputSchema',
  'ModelInfoSourceOutputSchema',
  'ModelSearchOutputSchema',
  'ModelsImportOutputSchema',
  'ModelsOutputSchema',
  'NetworkError',
  'PollItemSchema',
  'PollOutputSchema',
  'PriceOutputSchema',
  'PricingOutputSchema',
  'PruneOutputSchema',
  'QueueError',
  'REDACTED_SECRET',
  'REQUEST_STATUSES',
  'RateLimitError',
  'RecordOutputSchema',
  'RecoverOutputSchema',
  'RequestStatusSchema',
  'RequestViewSchema',
  'ResultOutputSchema',
  'RunOutputSchema',
  'SavedFileSchema',
  'StatusOutputSchema',
  'StoreError',
  'SubmitOutputSchema',
  'TERMINAL_STATUSES',
  'UploadOutputSchema',
  'UsageOutputSchema',
  'UsageRowOutputSchema',
  'WaitOutputSchema',
  'assertValid',
  'batchBudgetScope',
  'batchClaimScope',
  'batchCostStep',
  'batchIntentRef',
  'batchRecords',
  'batchRowTags',
  'batchRowWork',
  'canonicalJson',
  'costEstimatorFor',
  'createFalClient',
  'createFalai',
  'createMemoryStore',
  'createModelCatalogue',
  'createModelRegistry',
  'createPlatformClient',
  'createRedactor',
  'createWebhookHandler',
  'createWebhookServer',
  'createWebhookVerifier',
  'describeCredentialSources',
  'embedProvenance',
  'environmentRedactor',
  'failureRetryable',
  'falai',
  'formatValidationReport',
  'inputHash',
  'intentJournalFor',
  'loadBuiltInModelDefinitions',
  'loadModelDirectory',
  'lostSubmitResolver',
  'maskKey',
  'openStore',
  'parseBatchRows',
  'parseJsonExact',
  'parseStoreSpec',
  'planBatch',
  'planHash',
  'pollRequests',
  'prepareInput',
  'probeImage',
  'probeVideo',
  'readProvenance',
  'recoverRequests',
  'redactStoreLocation',
  'rerun',
  'resolveCredentials',
  'resolvePaths',
  'resolveSettings',
  'rowFormatOf',
  'rowKey',
  'runBatch',
  'runBatchRow',
  'saveOutputs',
  'sniffFile',
  'stringifyJsonExact',
  'submitCostOptions',
  'submitNotTaken',
  'summariseUsage',
  'toDataUri',
  'toFalaiError',
  'toJsonSchema',
  'verifyPlan',
  'verifyWebhook',
];

describe('the public surface of @falai/core', () => {
  it('the root exports exactly the pinned application API', () => {
    expect(Object.keys(root).sort()).toEqual(ROOT_VALUES);
  });

  it('store-kit internals are exported from the store kit, not from the root', () => {
    for (const name of [
      'prepareRecordForWrite',
      'planUpdate',
      'planClaim',
      'createBookLedger',
      'normaliseBudgetReserve',
      'checkBudgetScope',
      'storeRedactor',
      'migrateSeedPending',
      'corruptError',
    ]) {
      expect(kit, name).toHaveProperty(name);
      expect(root, name).not.toHaveProperty(name);
    }
  });

  it('no secret-list mutator is left anywhere', () => {
    for (const name of ['rememberSecret', 'knownSecrets', 'secretsFromEnv', 'scrubSecrets']) {
      expect(internal, name).not.toHaveProperty(name);
      expect(kit, name).not.toHaveProperty(name);
    }
  });

  it('internal holds every name of the root and of the store kit, as the same value', () => {
    const all = new Map<string, unknown>(Object.entries(internal));
    for (const [name, value] of [...Object.entries(root), ...Object.entries(kit)]) {
      expect(all.get(name), name).toBe(value);
    }
  });

  it('package.json maps each subpath to its source (tests) and its build (types, code)', () => {
    const dir = join(dirname(fileURLToPath(import.meta.url)), '..');
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      exports: Record<string, Record<string, string> | string>;
    };
    const entries = { '.': 'index', './store-kit': 'store-kit', './internal': 'internal' };
    expect(Object.keys(pkg.exports).sort()).toEqual(
      [...Object.keys(entries), './package.json'].sort(),
    );
    for (const [subpath, file] of Object.entries(entries)) {
      expect(pkg.exports[subpath]).toEqual({
        'falai-source': `./src/${file}.ts`,
        types: `./dist/${file}.d.ts`,
        default: `./dist/${file}.js`,
      });
      expect(existsSync(join(dir, 'src', `${file}.ts`)), subpath).toBe(true);
    }
  });
});
