import type { OutputFile, PendingRecord, Redactor } from '@falai/core';

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

/**
 * Terminal escapes (CSI, OSC, DCS/SOS/PM/APC strings, and the two-byte ESC forms, 7- or
 * 8-bit), then any other control character but tab and newline, and the bidirectional
 * overrides that make text read differently from what it holds.
 */
const ESCAPE_SEQUENCES =
  /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?|(?:\x1b[\]PX^_]|[\x90\x98\x9d-\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[ -~]?/g;
const CONTROL_CHARACTERS =
  /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Userinfo passwords in URLs (`redis://user:secret@host`). */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s"\\:/?#@]*:)([^\s"\\/?#@]+)@/gi;

/**
 * The one function every print path uses for text that may hold something from outside
 * (fal's ids, logs and error messages, file contents, user input): terminal escapes and
 * control characters go (tabs and newlines stay unless `singleLine`), every key `redactor`
 * holds (the command's: its environment's keys and every key it resolved), in any form,
 * becomes `[redacted]`, and URL passwords become `****`.
 */
export function sanitise(
  text: string,
  redactor: Redactor,
  options: { singleLine?: boolean } = {},
): string {
  let out = maskUrlPassword(redactor.redact(text))
    .replace(/\r\n/g, '\n')
    .replace(ESCAPE_SEQUENCES, '')
    .replace(CONTROL_CHARACTERS, '');
  if (options.singleLine) out = out.replace(/[\n\t]+/g, ' ');
  return out;
}

/** Replaces the password in `scheme://user:password@host` URLs with `****`. */
export function maskUrlPassword(text: string): string {
  return text.replace(URL_PASSWORD, '$1****@');
}

/**
 * Makes `--json` text safe for a terminal without changing what it parses to: JSON already
 * escapes C0 controls; C1 controls and bidirectional overrides become `\u` escapes too.
 */
export function escapeJsonText(json: string): string {
  return json.replace(
    /[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
