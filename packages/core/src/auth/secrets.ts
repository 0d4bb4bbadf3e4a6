/**
 * Every key this process has seen, wherever it came from (flag, environment, openclaw.json,
 * TOOLS.md, AGENTS.md, falai's config file, a library caller). Stores scrub these from each
 * record they write, so a key typed into a prompt never reaches the stored bytes even when it
 * did not come from the environment.
 */
const known = new Set<string>();

/** Values shorter than this are never treated as secrets, so ordinary words are left alone. */
const MIN_SECRET_LENGTH = 8;

/** Remembers a key (and its secret half, after the `:`) for {@link knownSecrets}. */
export function rememberSecret(key: string): void {
  const value = key.trim();
  if (value.length < MIN_SECRET_LENGTH) return;
  known.add(value);
  const colon = value.indexOf(':');
  if (colon >= 0 && value.length - colon - 1 >= MIN_SECRET_LENGTH)
    known.add(value.slice(colon + 1));
}

/** The remembered secrets, longest first (the whole key is replaced before its half). */
export function knownSecrets(): string[] {
  return [...known].sort((a, b) => b.length - a.length);
}
