import { createHash } from 'node:crypto';
import type { EstimateResult } from '../cost/estimate.js';
import type { CostEstimator } from '../cost/estimator.js';
import { InputError } from '../errors/falai-error.js';
import { assertSafeInput } from '../json/unsafe-keys.js';
import { coerceSetValue } from '../models/coerce.js';
import { assertResolved } from '../models/provider.js';
import type { ModelRegistry } from '../models/registry.js';
import { parseEndpointId } from '../queue/endpoint-id.js';
import type { BatchRow } from './rows.js';

/** One row of a plan: what will be submitted for it. */
export interface PlannedRow {
  /** 1-based row number in the source file. */
  readonly row: number;
  /** sha256 of endpoint + input (+ occurrence of an identical input): the row's identity. */
  readonly key: string;
  /** The row's `id` column or field, when it has one (used in output names as `{row.id}`). */
  readonly id?: string;
  readonly input: Record<string, unknown>;
}

/** A problem with one row: its number, the field and what is wrong. */
export interface PlanIssue {
  readonly row: number;
  /** Dotted field path (`image_size.width`), empty for the row as a whole. */
  readonly field: string;
  readonly message: string;
}

/** The cost of the whole batch, or why it cannot be said. */
export interface PlanCost {
  /** Sum of the rows' estimates in US dollars; null when any row's cost is unknown. */
  readonly usd: number | null;
  readonly estimatedRows: number;
  /** How the rows were priced, e.g. `fal-ai/nano-banana-pro at $0.15/images` (when known). */
  readonly basis?: string;
  readonly reason?: string;
}

/** A reviewed batch: written as JSON, run by `runBatch` only when its hash still matches. */
export interface BatchPlan {
  readonly kind: 'falai-batch-plan';
  readonly version: 1;
  readonly endpointId: string;
  /** sha256 over the endpoint and every row's input, in order (see {@link planHash}). */
  readonly hash: string;
  readonly createdAt: string;
  readonly source?: string;
  readonly rows: readonly PlannedRow[];
  readonly issues: readonly PlanIssue[];
  readonly cost: PlanCost;
}

/** Options of {@link planBatch}. */
export interface PlanBatchOptions {
  readonly endpointId: string;
  readonly rows: readonly BatchRow[];
  readonly registry: ModelRegistry;
  /**
   * An input with `{{column}}` placeholders. A string that is exactly one placeholder takes the
   * column's value typed by the model's field type; placeholders inside longer strings are
   * replaced as text. Without it each row is the input itself.
   */
  readonly template?: Record<string, unknown>;
  /**
   * Prices each row (core's estimator: `costEstimatorFor(settings, …)`, the one every submit
   * uses); the plan's `cost` is the sum. Without it the cost is unknown (`no cost estimator`).
   */
  readonly estimator?: CostEstimator;
  /** Where relative file paths start (media checks). */
  readonly cwd?: string;
  readonly source?: string;
  readonly now?: Date;
  readonly signal?: AbortSignal;
}

/** JSON with object keys sorted: the same input always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map(
        (key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`,
      );
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * A row's key: sha256 of endpoint + canonical input, and the occurrence (0 for the first) when
 * the same input appears more than once, so identical rows stay distinct generations.
 */
export function rowKey(endpointId: string, input: unknown, occurrence = 0): string {
  return sha256(`${endpointId}\n${canonicalJson(input)}\n${occurrence}`).slice(0, 40);
}

/** The content hash of a plan: sha256 over the endpoint and each row's input, in order. */
export function planHash(endpointId: string, rows: readonly Pick<PlannedRow, 'input'>[]): string {
  const hash = createHash('sha256').update(`${endpointId}\n`);
  for (const row of rows) hash.update(`${canonicalJson(row.input)}\n`);
  return hash.digest('hex');
}

/** Throws `INPUT_INVALID` when a plan's rows or endpoint no longer match its hash. */
export function verifyPlan(plan: BatchPlan): void {
  if (plan?.kind !== 'falai-batch-plan' || plan.version !== 1 || !Array.isArray(plan.rows)) {
    throw new InputError(
      'This is not a falai batch plan; make one with `falai batch plan <rows> --model <endpoint>`.',
      [{ path: [], message: 'not a plan', kind: 'format' }],
    );
  }
  const actual = planHash(plan.endpointId, plan.rows);
  if (actual !== plan.hash) {
    throw new InputError(
      `The plan was changed after it was made (hash ${actual.slice(0, 12)}… ≠ ${String(plan.hash).slice(0, 12)}…); plan the batch again and review it.`,
      [{ path: ['hash'], message: 'content hash mismatch', kind: 'integrity' }],
    );
  }
  if (plan.issues.length > 0) {
    throw new InputError(
      `The plan has ${plan.issues.length} invalid row(s) (first: row ${plan.issues[0]?.row} ${plan.issues[0]?.field}: ${plan.issues[0]?.message}); fix the rows and plan again.`,
      plan.issues.map((issue) => ({
        path: [`row ${issue.row}`, ...(issue.field ? [issue.field] : [])],
        message: issue.message,
      })),
    );
  }
}

const PLACEHOLDER = /\{\{\s*([^{}\s]+)\s*\}\}/g;
const WHOLE = /^\{\{\s*([^{}\s]+)\s*\}\}$/;

function fill(
  node: unknown,
  path: readonly (string | number)[],
  values: Record<string, unknown>,
  typed: (path: readonly (string | number)[], raw: unknown) => unknown,
  missing: Set<string>,
): unknown {
  if (typeof node === 'string') {
    const whole = WHOLE.exec(node);
    if (whole?.[1] !== undefined) {
      const column = whole[1];
      if (!Object.hasOwn(values, column)) missing.add(column);
      return typed(path, values[column]);
    }
    return node.replace(PLACEHOLDER, (_all, column: string) => {
      if (!Object.hasOwn(values, column)) missing.add(column);
      const value = values[column];
      return value === undefined || value === null ? '' : String(value);
    });
  }
  if (Array.isArray(node))
    return node.map((item, i) => fill(item, [...path, i], values, typed, missing));
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      const filled = fill(value, [...path, key], values, typed, missing);
      if (filled !== undefined) out[key] = filled;
    }
    return out;
  }
  return node;
}

/**
 * Plans a batch: builds each row's input (from the row, or the template filled from it),
 * validates every row against the model (every issue with its row number and field), keys
 * each row, estimates the whole batch's cost (or says why it cannot) and hashes the content.
 * The `id` column or field names a row (`{row.id}` in output names) and is not sent unless
 * the template uses it.
 */
export async function planBatch(options: PlanBatchOptions): Promise<BatchPlan> {
  const { endpointId, registry, template } = options;
  parseEndpointId(endpointId);
  assertResolved(await registry.resolve(endpointId, { signal: options.signal }));
  if (template !== undefined) assertSafeInput(template, '--template');
  const issues: PlanIssue[] = [];
  const rows: PlannedRow[] = [];
  const seen = new Map<string, number>();
  const typeValue = (path: readonly (string | number)[], raw: unknown): unknown => {
    if (typeof raw !== 'string') return raw;
    if (raw === '') return undefined;
    return coerceSetValue(registry, endpointId, path.join('.'), raw);
  };
  for (const source of options.rows) {
    const rowIssues: PlanIssue[] = [];
    const { id: rawId, ...rest } = source.values;
    const id = rawId === undefined || rawId === null || rawId === '' ? undefined : String(rawId);
    let input: Record<string, unknown> = {};
    try {
      if (template !== undefined) {
        const missing = new Set<string>();
        input = fill(template, [], source.values, typeValue, missing) as Record<string, unknown>;
        for (const column of missing) {
          rowIssues.push({
            row: source.row,
            field: column,
            message: `no column "${column}" in this row`,
          });
        }
      } else {
        for (const [key, value] of Object.entries(rest)) {
          const typed = typeValue([key], value);
          if (typed !== undefined) input[key] = typed;
        }
      }
      assertSafeInput(input, `row ${source.row}`);
    } catch (error) {
      rowIssues.push({
        row: source.row,
        field: '',
        message: error instanceof Error ? error.message : String(error),
      });
    }
    if (rowIssues.length === 0) {
      const report = await registry.validate(endpointId, input, {
        checkMedia: true,
        strict: false,
        cwd: options.cwd,
      });
      for (const issue of report.issues) {
        rowIssues.push({ row: source.row, field: issue.path.join('.'), message: issue.message });
      }
    }
    issues.push(...rowIssues);
    const base = rowKey(endpointId, input);
    const occurrence = seen.get(base) ?? 0;
    seen.set(base, occurrence + 1);
    rows.push({
      row: source.row,
      key: occurrence === 0 ? base : rowKey(endpointId, input, occurrence),
      ...(id === undefined ? {} : { id }),
      input,
    });
  }
  let cost: PlanCost = { usd: null, estimatedRows: 0, reason: 'no cost estimator' };
  if (options.estimator && issues.length === 0) {
    cost = await estimateRows(options.estimator, registry, endpointId, rows, options.signal);
  } else if (issues.length > 0) {
    cost = { usd: null, estimatedRows: 0, reason: 'the plan has invalid rows' };
  }
  return {
    kind: 'falai-batch-plan',
    version: 1,
    endpointId,
    hash: planHash(endpointId, rows),
    createdAt: (options.now ?? new Date()).toISOString(),
    ...(options.source === undefined ? {} : { source: options.source }),
    rows,
    issues,
    cost,
  };
}

/**
 * The whole batch's cost: each row estimated by core's estimator (identical inputs once), the
 * sum rounded to the micro-dollar; unknown (with the first row's reason) when any row is.
 */
async function estimateRows(
  estimator: CostEstimator,
  registry: ModelRegistry,
  endpointId: string,
  rows: readonly PlannedRow[],
  signal: AbortSignal | undefined,
): Promise<PlanCost> {
  const definition = registry.get(endpointId);
  const cache = new Map<string, EstimateResult>();
  let micros = 0;
  let estimated = 0;
  let reason: string | undefined;
  const units = new Set<string>();
  for (const row of rows) {
    const text = canonicalJson(row.input);
    let answer = cache.get(text);
    if (!answer) {
      answer = await estimator.estimate({
        endpointId,
        input: row.input,
        ...(definition ? { definition } : {}),
        signal,
      });
      cache.set(text, answer);
    }
    if (answer.estimate === null) {
      reason ??= `row ${row.row}: ${answer.reason}`;
      continue;
    }
    micros += Math.round(answer.estimate.usd * 1e6);
    estimated += 1;
    units.add(`$${answer.estimate.unitPrice}/${answer.estimate.unit}`);
  }
  if (reason) return { usd: null, estimatedRows: estimated, reason };
  return {
    usd: micros / 1e6,
    estimatedRows: estimated,
    ...(units.size > 0 ? { basis: `${endpointId} at ${[...units].join(', ')}` } : {}),
  };
}
