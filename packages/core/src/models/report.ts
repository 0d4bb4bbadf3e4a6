import { InputError, type InputIssue } from '../errors/falai-error.js';

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

/**
 * Throws an InputError listing every issue; MODEL_UNKNOWN when strict mode met an unknown id.
 * The message is one line naming the endpoint, then the seed-like block, which states each
 * issue once (a summary line before it used to repeat a lone issue).
 */
export function assertValid(report: ValidationReport): void {
  if (report.ok) return;
  const unknown = !report.known && report.issues.some((i) => i.kind === 'unknown-model');
  throw new InputError(
    `Invalid input for ${report.endpointId}:\n${formatValidationReport(report)}`,
    report.issues,
    { code: unknown ? 'MODEL_UNKNOWN' : 'INPUT_INVALID' },
  );
}
