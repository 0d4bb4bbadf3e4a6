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

/** What `check-key` and the resolved credentials say about a key that was unquoted. */
export const UNQUOTED_NOTE =
  'the key was wrapped in quotes, which falai removed; other tools may not, so write it without them (FAL_KEY=<key_id>:<key_secret>)';
