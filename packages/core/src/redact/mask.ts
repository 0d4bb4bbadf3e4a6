/**
 * Masks a key for display: at most 8 leading characters, never past the `:` that
 * starts the secret, and never more than a quarter of the key, then `…`.
 * The quarter rule keeps short test keys from leaking most of their length.
 */
export function maskKey(key: string): string {
  const trimmed = key.trim();
  if (trimmed === '') return '…';
  const colon = trimmed.indexOf(':');
  const limit = Math.min(8, colon >= 0 ? colon : trimmed.length, Math.floor(trimmed.length / 4));
  return `${trimmed.slice(0, Math.max(0, limit))}…`;
}

/**
 * Removes a key (and its secret half on its own) from free text, for messages that
 * echo something a server or a file said.
 */
export function redactKey(text: string, key: string | undefined): string {
  if (!key) return text;
  let out = text.split(key).join(maskKey(key));
  const colon = key.indexOf(':');
  const secret = colon >= 0 ? key.slice(colon + 1) : '';
  if (secret.length >= 4) out = out.split(secret).join('…');
  return out;
}

/**
 * A key as a `.env` file or a shell line may hold it: `FAL_KEY='"id:secret"'` keeps the
 * double quotes in the value, and fal refuses such a key only later, at the first paid call.
 * One matching pair of surrounding quotes (`"`, `'` or a backtick) and the whitespace around
 * and inside it are removed; a value with quotes anywhere else is left as it is (and then
 * refused as malformed).
 */
export function unquoteKey(raw: string): { readonly key: string; readonly unquoted: boolean } {
  const trimmed = raw.trim();
  const match = /^(["'`])([^"'`]*)\1$/.exec(trimmed);
  if (!match) return { key: trimmed, unquoted: false };
  return { key: (match[2] ?? '').trim(), unquoted: true };
}
