import type { FalaiErrorCode } from '@falai/core';

/**
 * The one table from error code to process exit status. Scripts and agents branch on these
 * numbers, so they never change within a major version; `apps/cli/README.md` documents it.
 */
export const EXIT_CODES: Readonly<Record<FalaiErrorCode, number>> = {
  INTERNAL: 1,
  USAGE: 2,
  CONFIG_INVALID: 3,
  AUTH_MISSING: 3,
  AUTH_INVALID: 3,
  AUTH_REJECTED: 3,
  MODEL_UNKNOWN: 4,
  INPUT_INVALID: 4,
  MEDIA_INVALID: 4,
  WEBHOOK_INVALID: 4,
  BUDGET_EXCEEDED: 4,
  COST_UNKNOWN: 4,
  API_ERROR: 5,
  RATE_LIMITED: 5,
  NETWORK_ERROR: 5,
  NOT_FOUND: 5,
  REQUEST_FAILED: 6,
  REQUEST_TIMEOUT: 6,
  REQUEST_CANCELLED: 6,
  TIMEOUT: 6,
  STORE_ERROR: 7,
  STORE_CORRUPT: 7,
  STORE_CONFLICT: 7,
  OUTPUT_EXISTS: 8,
  OUTPUT_WRITE_FAILED: 8,
  ABORTED: 130,
};

/** Exit status for an error code; unknown codes count as internal errors. */
export function exitCodeFor(code: string): number {
  return (EXIT_CODES as Record<string, number>)[code] ?? 1;
}
