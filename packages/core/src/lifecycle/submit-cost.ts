import { randomUUID } from 'node:crypto';
import type { FalaiSettings } from '../config/settings.js';
import {
  type BudgetCap,
  budgetCapsFor,
  describeCap,
  hasKeyBudgets,
  keyIdOf,
  releaseBudgets,
  reserveBudgets,
} from '../cost/budget.js';
import { type EstimateResult, formatUsd } from '../cost/estimate.js';
import { type CostEstimator, costEstimatorFor } from '../cost/estimator.js';
import { AbortedError, BudgetError, type FalaiError, NetworkError } from '../errors/falai-error.js';
import type { ModelDefinition } from '../models/definition.js';
import { UNSENT_NETWORK_CODES } from '../queue/retry.js';
import type { PendingStore } from '../store/types.js';

/** What a submit knows about its cost before anything is sent. */
export interface SubmitCostOptions {
  /** Estimates the request's cost from its input (`createCostEstimator`). No estimator: none. */
  readonly estimator?: CostEstimator;
  /**
   * Refuse (`BUDGET_EXCEEDED`, nothing sent) when the estimate is above this many US dollars,
   * and (`COST_UNKNOWN`) when no estimate can be made.
   */
  readonly maxCostUsd?: number | undefined;
  /** How `maxCostUsd` is called in messages. @default 'maxCostUsd' (the CLI: `--max-cost`) */
  readonly maxCostLabel?: string;
  /**
   * Hard caps (`budgetCapsFor(settings.budget, …)`): the estimate is reserved in each cap's
   * scope of the store's budget ledger before the POST (all or nothing; `BUDGET_EXCEEDED` when
   * one is full), released when the submit fails or is refused, settled with the actual cost
   * when the outcome is recorded. A cap with no estimate refuses (`COST_UNKNOWN`).
   */
  readonly budgets?: readonly BudgetCap[];
  /** Told of the estimate (or why there is none) as soon as it is known, before anything is sent. */
  readonly onEstimate?: (estimate: EstimateResult) => void;
}

/** What the cost step decided: the estimate and the reservations held for this submit. */
export interface SubmitCostPlan {
  readonly estimate?: EstimateResult;
  readonly reservations: readonly string[];
}

/**
 * The cost step of a submit, before anything is sent: estimate, refuse above `maxCostUsd`,
 * reserve the estimate under every budget cap. Throws `BUDGET_EXCEEDED` or `COST_UNKNOWN`
 * (nothing reserved then).
 */
export async function planSubmitCost(
  options: SubmitCostOptions,
  request: {
    readonly endpointId: string;
    readonly input: Record<string, unknown>;
    readonly definition?: ModelDefinition;
    readonly store: PendingStore;
    readonly signal?: AbortSignal | undefined;
  },
): Promise<SubmitCostPlan> {
  const { endpointId } = request;
  const budgets = options.budgets ?? [];
  const capped = options.maxCostUsd !== undefined || budgets.length > 0;
  let estimate: EstimateResult | undefined;
  if (options.estimator) {
    estimate = await options.estimator.estimate({
      endpointId,
      input: request.input,
      ...(request.definition ? { definition: request.definition } : {}),
      signal: request.signal,
    });
    options.onEstimate?.(estimate);
  } else if (capped) {
    estimate = { estimate: null, reason: 'no cost estimator was given' };
  }
  if (!capped) return { ...(estimate ? { estimate } : {}), reservations: [] };
  const label = options.maxCostLabel ?? 'maxCostUsd';
  if (!estimate || estimate.estimate === null) {
    const reason = estimate && estimate.estimate === null ? estimate.reason : 'no estimate';
    const by =
      options.maxCostUsd !== undefined
        ? `${label} ${formatUsd(options.maxCostUsd)} is set`
        : `${budgets.map(describeCap).join(' and ')} ${budgets.length > 1 ? 'are' : 'is'} set`;
    const proceed =
      options.maxCostUsd !== undefined
        ? `check the price with \`falai pricing ${endpointId}\`, then submit without ${label} if you accept it`
        : `check the price with \`falai pricing ${endpointId}\`; to send it anyway, remove the cap (falai config unset ${budgets[0]?.setting ?? 'budget.daily'})`;
    throw new BudgetError(
      'COST_UNKNOWN',
      `Not sent: ${by}, and falai cannot estimate what this request to ${endpointId} costs (${reason}). To proceed, ${proceed}.`,
      {
        details: {
          endpointId,
          reason,
          ...(options.maxCostUsd !== undefined ? { maxCostUsd: options.maxCostUsd } : {}),
        },
      },
    );
  }
  const usd = estimate.estimate.usd;
  if (options.maxCostUsd !== undefined && usd > options.maxCostUsd) {
    throw new BudgetError(
      'BUDGET_EXCEEDED',
      `Not sent: this request to ${endpointId} is estimated at ${estimate.estimate.basis}, above ${label} ${formatUsd(options.maxCostUsd)}. Ask for less (fewer or smaller outputs), or raise ${label}.`,
      {
        details: {
          endpointId,
          estimateUsd: usd,
          maxCostUsd: options.maxCostUsd,
          basis: estimate.estimate.basis,
        },
      },
    );
  }
  // One key per submit: a retried reserve of the same submit never holds twice.
  const reservations = await reserveBudgets(request.store, budgets, usd, randomUUID(), endpointId);
  return { estimate, reservations };
}

/** Releases what a submit that never happened held (best effort). */
export function releaseSubmitCost(store: PendingStore, plan: SubmitCostPlan | undefined) {
  return releaseBudgets(store, plan?.reservations ?? []);
}

/**
 * Whether a failed POST may still have reached fal: the connection broke or timed out after
 * the request was sent, so fal may have accepted (and may bill) it. fal never charges a 5xx,
 * and a 4xx is an answer: those are known not to have started a request.
 */
export function submitOutcomeUnknown(error: FalaiError): boolean {
  if (error.code === 'TIMEOUT') return true;
  if (error.code === 'API_ERROR') {
    // A 5xx that carries fal's request id came from the app layer: the job may exist.
    const details = error.details as { status?: unknown; requestId?: unknown } | undefined;
    return typeof details?.status === 'number' && details.status >= 500 && !!details.requestId;
  }
  if (error.code !== 'NETWORK_ERROR') return false;
  const code = (error.details as { code?: unknown } | undefined)?.code;
  return !(typeof code === 'string' && UNSENT_NETWORK_CODES.has(code));
}

/**
 * The error of a submit whose outcome is unknown, saying that falai kept a note of it and how
 * to find it at fal before sending it again (same code as the original).
 */
export function unknownOutcomeError(error: FalaiError, endpointId: string): FalaiError {
  const hint = ` fal may have accepted it: falai kept a note of this submit, and \`falai recover --endpoint ${endpointId}\` finds it in fal's history (and records it) before you send it again.`;
  const details = {
    ...(typeof error.details === 'object' && error.details !== null ? error.details : {}),
    endpointId,
    outcome: 'unknown',
    recover: `falai recover --endpoint ${endpointId}`,
  };
  if (error.code === 'TIMEOUT') {
    return new AbortedError('TIMEOUT', `${error.message}${hint}`, { cause: error, details });
  }
  return new NetworkError(`${error.message}${hint}`, { cause: error, details });
}

/** Options of {@link submitCostOptions}. */
export interface SubmitCostSettingsOptions {
  /** falai's cache folder, where prices are cached. @default `settings.paths.cacheDir` */
  readonly cacheDir?: string | undefined;
  /** The key in use (read only to price a request, or when a per-key cap is set). */
  readonly credentials: () => Promise<string>;
  readonly userAgent?: string;
  /** Estimate before submitting. @default true */
  readonly estimate?: boolean;
  readonly maxCostUsd?: number | undefined;
  readonly maxCostLabel?: string;
  readonly onEstimate?: (estimate: EstimateResult) => void;
  /** @default new Date() */
  readonly now?: Date;
}

/**
 * The cost step as settings configure it, shared by the CLI and `createFalai`: the estimator
 * (prices cached in the cache folder), the caller's max cost, and the budget caps of
 * `settings.budget` that apply to this store (`settings.store`) and key.
 */
export async function submitCostOptions(
  settings: FalaiSettings,
  options: SubmitCostSettingsOptions,
): Promise<SubmitCostOptions> {
  let keyId: string | undefined;
  if (hasKeyBudgets(settings.budget)) {
    // A per-key cap needs to know the key; without one the submit fails on its own later.
    keyId = await options.credentials().then(keyIdOf, () => undefined);
  }
  const budgets = budgetCapsFor(settings.budget, {
    ...(settings.store ? { store: settings.store } : {}),
    ...(keyId ? { keyId } : {}),
    locations: settings.paths,
    ...(options.now ? { now: options.now } : {}),
    ...(settings.sources.budget ? { source: settings.sources.budget.label } : {}),
  });
  return {
    ...(options.estimate === false
      ? {}
      : {
          estimator: costEstimatorFor(settings, {
            cacheDir: options.cacheDir ?? settings.paths.cacheDir,
            credentials: options.credentials,
            ...(options.userAgent ? { userAgent: options.userAgent } : {}),
          }),
        }),
    maxCostUsd: options.maxCostUsd,
    ...(options.maxCostLabel ? { maxCostLabel: options.maxCostLabel } : {}),
    ...(budgets.length > 0 ? { budgets } : {}),
    ...(options.onEstimate ? { onEstimate: options.onEstimate } : {}),
  };
}
