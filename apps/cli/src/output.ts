import type { OutputFile, PendingRecord } from '@falai/core';

/** Human rendering helpers. Never used under `--json`. */

/** A plain left-aligned table, padded to the widest cell. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `3m ago`-style age of an ISO timestamp. */
export function age(iso: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)}h ago`;
  return `${Math.round(seconds / 86_400)}d ago`;
}

/** Rows for `list`. */
export function recordRows(records: readonly PendingRecord[]): string[][] {
  return records.map((record) => [
    record.requestId,
    record.endpointId,
    record.status,
    record.queuePosition === undefined ? '' : String(record.queuePosition),
    age(record.submittedAt),
  ]);
}

/** Lines naming saved files, or the output URLs when nothing was saved. */
export function describeOutputs(outputs: readonly OutputFile[], urls: readonly string[]): string[] {
  if (outputs.length > 0) return outputs.map((file) => file.path);
  return urls.map((url) => (url.startsWith('data:') ? `${url.slice(0, 40)}…` : url));
}

/** Seconds with one decimal. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
