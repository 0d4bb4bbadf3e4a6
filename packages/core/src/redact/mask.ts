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
