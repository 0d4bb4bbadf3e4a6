import type { CostEstimateOutput, EstimateResult, FalaiSettings, PendingStore } from '@falai/core';
import type { SubmitCostOptions, SubmitIntentJournal } from '@falai/core/internal';

/**
 * The cost step of `submit` and `run` as the CLI sets it up (core decides everything: the
 * estimate, `--max-cost`, the config's budgets, the recovery note), and how its estimate is
 * shown: one note on stderr, `estimate` / `estimateReason` under `--json`.
 */
export async function submitCost(options: {
  readonly settings: FalaiSettings;
  readonly cacheDir: string;
  readonly key: () => Promise<string>;
  readonly userAgent: string;
  readonly store: PendingStore;
  readonly maxCostUsd?: number | undefined;
  /** Where the estimate line goes (stderr; silent under --json and --quiet). */
  readonly note: (line: string) => void;
}): Promise<{ readonly cost: SubmitCostOptions; readonly intents?: SubmitIntentJournal }> {
  const core = await import('@falai/core/internal');
  const cost = await core.submitCostOptions(options.settings, {
    cacheDir: options.cacheDir,
    credentials: options.key,
    userAgent: options.userAgent,
    maxCostUsd: options.maxCostUsd,
    maxCostLabel: '--max-cost',
    onEstimate: (result) => options.note(estimateLine(result)),
  });
  const intents = core.intentJournalFor(options.store, options.settings.paths);
  return { cost, ...(intents ? { intents } : {}) };
}

/** `Estimated cost: $0.30 (2 images … = $0.30; assuming …)` or `No cost estimate: …`. */
export function estimateLine(result: EstimateResult): string {
  const notes = result.notes?.length ? ` (${result.notes.join('; ')})` : '';
  if (result.estimate === null) return `No cost estimate: ${result.reason}${notes}.`;
  const { estimate } = result;
  const assuming = estimate.assumptions.length
    ? `; assuming ${estimate.assumptions.join('; ')}`
    : '';
  return `Estimated cost: ${estimate.basis}${assuming}${notes}`;
}

/** The `--json` fields of an estimate: `estimate` (or `null` and `estimateReason`). */
export function estimateFields(result: EstimateResult | undefined): {
  estimate?: CostEstimateOutput | null;
  estimateReason?: string;
} {
  if (!result) return {};
  if (result.estimate === null) return { estimate: null, estimateReason: result.reason };
  const { usd, currency, basis, assumptions, method, units, unit, unitPrice } = result.estimate;
  return {
    estimate: {
      usd,
      currency,
      basis,
      assumptions: [...assumptions],
      method,
      units,
      unit,
      unitPrice,
    },
  };
}

/** A Platform API client with the command's settings and key (read only when a call needs it). */
export async function platformClient(options: {
  readonly settings: FalaiSettings;
  readonly key: () => Promise<string>;
  readonly userAgent: string;
}) {
  const { createPlatformClient } = await import('@falai/core/internal');
  return createPlatformClient({
    settings: options.settings,
    credentials: options.key,
    userAgent: options.userAgent,
  });
}

/**
 * `--since`: a period back from now (`7d`, `24h`, `30m`) or a date (`2026-03-01`, any ISO
 * time), as an ISO instant. A bare number is refused (seven what?).
 */
export async function sinceInstant(text: string, flag = '--since'): Promise<string> {
  const { FalaiError } = await import('@falai/core/internal');
  const { parseDuration } = await import('./flags.js');
  const trimmed = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) {
    throw new FalaiError(
      'USAGE',
      `${flag} "${trimmed}" has no unit; say what it means, e.g. ${trimmed}d (days), ${trimmed}h (hours), or give a date such as 2026-03-01.`,
    );
  }
  if (/^\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)$/i.test(trimmed)) {
    return new Date(Date.now() - parseDuration(trimmed)).toISOString();
  }
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) {
    throw new FalaiError(
      'USAGE',
      `${flag} "${trimmed}" is neither a period (7d, 24h, 30m) nor a date (2026-03-01).`,
    );
  }
  return new Date(at).toISOString();
}

/** `$1.234567` → `$1.23` for tables: dollars with cents, more digits below a cent. */
export function usdText(usd: number): string {
  if (usd === 0) return '$0.00';
  if (usd < 0.01) return `$${usd.toFixed(6).replace(/0+$/, '')}`;
  return `$${usd.toFixed(2)}`;
}

/**
 * What fal expects of a request to `endpointId` (the catalogue's duration estimate, the last
 * day's analytics): for the ETA while waiting. Quick and best effort (5 s, no retries).
 */
export async function expectationFor(options: {
  readonly settings: FalaiSettings;
  readonly cacheDir: string;
  readonly key: () => Promise<string>;
  readonly userAgent: string;
  readonly endpointId: string;
  /** The model file's `durationEstimate` (seconds), used when fal's catalogue says nothing. */
  readonly durationEstimateS?: number | undefined;
}): Promise<import('@falai/core/internal').RequestExpectation> {
  const { createPlatformClient, requestExpectation } = await import('@falai/core/internal');
  const platform = createPlatformClient({
    settings: options.settings,
    credentials: options.key,
    userAgent: options.userAgent,
    retry: { maxRetries: 0 },
    timeoutMs: 5000,
  });
  return requestExpectation({
    platform,
    endpointId: options.endpointId,
    cacheDir: options.cacheDir,
    ...(options.durationEstimateS === undefined
      ? {}
      : { known: { durationEstimateS: options.durationEstimateS } }),
  });
}
