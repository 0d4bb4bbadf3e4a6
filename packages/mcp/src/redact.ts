import { knownSecrets, REDACTED_SECRET, secretsFromEnv } from '@falai/core';

/** Values shorter than this are never treated as secrets, so ordinary words stay intact. */
const MIN_SECRET_LENGTH = 8;

/**
 * Every key this process knows (core's `knownSecrets`: any source the credentials resolver
 * read, and `secretsFromEnv`: FAL_KEY, FAL_KEY_SECRET, FAL_ADMIN_KEY), with the key id and the
 * secret half of `id:secret` keys on their own, plainly and URL-encoded. Longest first, so
 * the whole key goes before its halves.
 */
function secretForms(env: NodeJS.ProcessEnv): string[] {
  const secrets = new Set<string>([...knownSecrets(), ...secretsFromEnv(env)]);
  for (const secret of [...secrets]) {
    const colon = secret.indexOf(':');
    if (colon < 0) continue;
    secrets.add(secret.slice(0, colon));
    secrets.add(secret.slice(colon + 1));
  }
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/** Replaces every known key (whole, either half, URL-encoded) in a text with `[redacted]`. */
export function redactText(text: string, env: NodeJS.ProcessEnv = process.env): string {
  let out = text;
  for (const secret of secretForms(env)) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED_SECRET);
  }
  return out;
}

/**
 * A value with every string in it (keys included) redacted. Tool results go through this
 * just before they are sent, so no message, path, log line or output echoes the key.
 */
export function redactValue<T>(value: T, env: NodeJS.ProcessEnv = process.env): T {
  const forms = secretForms(env);
  if (forms.length === 0) return value;
  const scrub = (text: string) => {
    let out = text;
    for (const secret of forms)
      if (out.includes(secret)) out = out.split(secret).join(REDACTED_SECRET);
    return out;
  };
  const visit = (item: unknown): unknown => {
    if (typeof item === 'string') return scrub(item);
    if (Array.isArray(item)) return item.map(visit);
    if (item !== null && typeof item === 'object') {
      return Object.fromEntries(
        Object.entries(item).map(([key, inner]) => [scrub(key), visit(inner)]),
      );
    }
    return item;
  };
  return visit(value) as T;
}
