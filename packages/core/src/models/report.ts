import { InputError, type InputIssue } from '../errors/falai-error.js';
import { isOverridable } from './issues.js';

/** Everything local validation found, so callers can show all problems at once. */
export interface ValidationReport {
  /** No issues (warnings and notes do not count). */
  readonly ok: boolean;
  readonly endpointId: string;
  /** The endpoint has a model definition (built-in or user). */
  readonly known: boolean;
  readonly issues: InputIssue[];
  readonly warnings: InputIssue[];
  readonly notes: string[];
}

function line(issue: InputIssue): string {
  return issue.hint ? `${issue.message} (${issue.hint})` : issue.message;
}

/**
 * Formats a report the way the seed skill printed it: notes and warnings with ⚠️, then
 * "❌ Validation failed:" and one "- …" line per issue with how to fix it.
 */
export function formatValidationReport(report: ValidationReport): string {
  const out: string[] = [];
  for (const note of report.notes) out.push(`⚠️  Note: ${note}`);
  for (const warning of report.warnings) out.push(`⚠️  Warning: ${line(warning)}`);
  if (report.issues.length > 0) {
    out.push('❌ Validation failed:');
    for (const issue of report.issues) out.push(`   - ${line(issue)}`);
  }
  return out.join('\n');
}

/** Options of `assertValid`. */
export interface AssertValidOptions {
  /**
   * How the caller lets the user send an input the model definition objects to (the CLI's
   * `--force-input`). When every issue is one the definition alone decides (unknown field,
   * type, range…), the message ends by naming it, and `details.override` holds it.
   */
  readonly override?: string | undefined;
}

/**
 * Throws an InputError listing every issue; MODEL_UNKNOWN when strict mode met an unknown id.
 * The message is one line naming the endpoint, then the seed-like block, which states each
 * issue once (a summary line before it used to repeat a lone issue), then the override when
 * one would let the input through.
 */
export function assertValid(report: ValidationReport, options: AssertValidOptions = {}): void {
  if (report.ok) return;
  const unknown = !report.known && report.issues.some((i) => i.kind === 'unknown-model');
  const override =
    options.override !== undefined && report.issues.every(isOverridable)
      ? options.override
      : undefined;
  const tail =
    override === undefined
      ? ''
      : `\nNothing was sent. If fal's model accepts this and falai's definition is behind, send it as it is with ${override} (fal may still refuse it, or charge for it).`;
  throw new InputError(
    `Invalid input for ${report.endpointId}:\n${formatValidationReport(report)}${tail}`,
    report.issues,
    {
      code: unknown ? 'MODEL_UNKNOWN' : 'INPUT_INVALID',
      details: { issues: report.issues, ...(override === undefined ? {} : { override }) },
    },
  );
}
