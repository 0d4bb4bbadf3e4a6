/**
 * `@falai/core`: the application API. The one-call lifecycle (`createFalai`, `falai.run`,
 * `falai.job`), the errors it throws, settings, credentials and the redactor, the model
 * registry, the queue, Platform and catalogue clients, stores as an application opens them,
 * webhooks, provenance, local media helpers, cost estimates, batches and the `--json` output
 * schemas.
 *
 * Store authors import `@falai/core/store-kit`; falai's own front ends import what only they
 * need from `@falai/core/internal`. This list is pinned by a test (test/exports.test.ts):
 * growing it is a decision, not a side effect.
 *
 * Heavy dependencies (media parsers, SSE parser) are imported lazily inside the functions
 * that need them, so importing this module stays cheap.
 */

export {
  type CredentialSourceReport,
  describeCredentialSources,
  type ResolveCredentialsOptions,
  type ResolvedCredentials,
  resolveCredentials,
} from './auth/credentials.js';
// Batches.
export * from './batch/index.js';
export {
  createModelCatalogue,
  type ModelCatalogue,
  type ModelCatalogueOptions,
} from './catalogue/index.js';
// Settings, credentials and keeping keys out of everything.
export type { BudgetConfig } from './config/budget.js';
export type { EnvLike, OpenclawPaths } from './config/paths.js';
export {
  DEFAULT_API_URL,
  DEFAULT_BASE_URLS,
  DEFAULT_HISTORY_RETENTION_DAYS,
  environmentRedactor,
  type FalaiPaths,
  type FalaiSettings,
  type FalHost,
  type ResolveSettingsOptions,
  resolvePaths,
  resolveSettings,
  type SettingSource,
} from './config/settings.js';
// Cost: estimates and the usage recorded in a store.
export {
  type BudgetCap,
  type CostEstimate,
  type CostEstimator,
  costEstimatorFor,
  type EstimateResult,
  summariseUsage,
} from './cost/index.js';
// Errors: every FalaiError with its stable code.
export * from './errors/index.js';
// JSON with fal's 64-bit integers (seeds) kept exact.
export { parseJsonExact, stringifyJsonExact } from './json/exact.js';
// The lifecycle in one call.
export type { DeferredSignal } from './lifecycle/critical-section.js';
export * from './lifecycle/endpoints.js';
export {
  createFalai,
  type DownloadTarget,
  type Falai,
  type FalaiOptions,
  falai,
  type Job,
  type JobProgress,
  type JobResult,
  type RunJobOptions,
  type RunResult,
  type SubmitJobOptions,
  type WaitJobOptions,
} from './lifecycle/falai.js';
export {
  inputHash,
  intentJournalFor,
  type SubmitIntent,
  type SubmitIntentJournal,
} from './lifecycle/intents.js';
export {
  type FileStoreModule,
  type OpenStoreOptions,
  openStore,
  type RedisStoreModule,
  type SqliteStoreModule,
  type StoreDrivers,
} from './lifecycle/open-store.js';
export { type PollRequestsOptions, type PollSummary, pollRequests } from './lifecycle/poll.js';
export { type RecoverOptions, recoverRequests } from './lifecycle/recover.js';
export { type RerunOptions, rerun } from './lifecycle/rerun.js';
export { type SaveOutputsOptions, type SaveSettings, saveOutputs } from './lifecycle/save.js';
export {
  type SubmitCostOptions,
  type SubmitCostSettingsOptions,
  submitCostOptions,
} from './lifecycle/submit-cost.js';
// Local media.
export {
  type PreparedInput,
  type PrepareInputOptions,
  prepareInput,
  probeImage,
  probeVideo,
  sniffFile,
  toDataUri,
} from './media/index.js';
// The model registry and input validation.
export {
  type AssertValidOptions,
  assertValid,
  createModelRegistry,
  type FieldSpec,
  formatValidationReport,
  type LoadedModels,
  loadBuiltInModelDefinitions,
  loadModelDirectory,
  type ModelDefinition,
  ModelDefinitionSchema,
  type ModelRegistry,
  type ModelRegistryOptions,
  type ModelSummary,
  toJsonSchema,
  type ValidateOptions,
  type ValidationReport,
} from './models/index.js';
// `falai … --json` output schemas.
export * from './output/index.js';
export {
  type AnalyticsQuery,
  createPlatformClient,
  type PlatformClient,
  type PlatformClientOptions,
  type UsageQuery,
} from './platform/index.js';
// Provenance embedded in saved outputs.
export {
  embedProvenance,
  type Provenance,
  type ReadProvenanceResult,
  readProvenance,
} from './provenance/index.js';
// Clients: fal's queue, the Platform API and the model catalogue.
export { createFalClient } from './queue/client.js';
export * from './queue/types.js';
export { maskKey } from './redact/mask.js';
export { createRedactor, REDACTED_SECRET, type Redactor } from './redact/redactor.js';
export { MAX_BUDGET_USD, MAX_RESERVATION_TTL_MS } from './store/budget.js';
export { createMemoryStore } from './store/memory.js';
// Stores, as an application opens and reads them.
export {
  ACTIVE_STATUSES,
  type OutputFile,
  type PendingRecord,
  REQUEST_STATUSES,
  type RequestStatus,
  TERMINAL_STATUSES,
} from './store/record.js';
export { parseStoreSpec, redactStoreLocation, type StoreSpec } from './store/spec.js';
export type { PendingFilter, PendingStore, StoreCapabilities } from './store/types.js';
// Webhooks: verification and the receiver.
export {
  createWebhookHandler,
  createWebhookServer,
  createWebhookVerifier,
  verifyWebhook,
  type WebhookEvent,
  type WebhookHandler,
  type WebhookHandlerOptions,
  type WebhookServer,
  type WebhookServerOptions,
  type WebhookVerifier,
} from './webhooks/index.js';
