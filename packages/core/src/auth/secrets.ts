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

/** Environment variables whose values must never reach a store. */
const SECRET_VARIABLES = ['FAL_KEY', 'FAL_KEY_SECRET', 'FAL_ADMIN_KEY'] as const;

/**
 * The secret strings a record must not contain: the whole FAL_KEY and its secret half
 * (`id:secret`). Short values are ignored so that ordinary words are never mangled.
 */
export function secretsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const out = new Set<string>();
  for (const name of SECRET_VARIABLES) {
    const value = env[name]?.trim();
    if (!value || value.length < 8) continue;
    out.add(value);
    const colon = value.indexOf(':');
    if (colon >= 0 && value.length - colon - 1 >= 8) out.add(value.slice(colon + 1));
  }
  // Longest first, so the whole key is replaced before its secret half.
  return [...out].sort((a, b) => b.length - a.length);
}
