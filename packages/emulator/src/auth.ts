import type { IncomingMessage } from 'node:http';

/** Which keys the emulator accepts and which are locked. */
export interface KeyPolicy {
  accept: string[] | 'any';
  locked: string[];
}

/** The outcome of checking an Authorization header. */
export type AuthResult =
  | { ok: true; keyId: string }
  | { ok: false; status: number; body: { detail: string } };

/** A key from an `Authorization: Key <id>:<secret>` header. */
export interface ParsedKey {
  /** The whole `id:secret`. */
  key: string;
  id: string;
  secret: string;
}

/** The key of an Authorization header; undefined without the `Key ` scheme or a colon. */
export function parseKey(header: string): ParsedKey | undefined {
  const match = /^Key\s+(.+)$/i.exec(header.trim());
  const key = match?.[1]?.trim() ?? '';
  const colon = key.indexOf(':');
  if (!match || colon < 0) return undefined;
  return { key, id: key.slice(0, colon), secret: key.slice(colon + 1) };
}

/**
 * Whether the policy knows the key: under `accept: 'any'` any key with an id and a secret,
 * else a listed or locked key (a locked key is known; it is refused at submit).
 */
export function keyAccepted(key: ParsedKey, policy: KeyPolicy): boolean {
  return policy.accept === 'any'
    ? key.id.length > 0 && key.secret.length > 0
    : policy.accept.includes(key.key) || policy.locked.includes(key.key);
}

/**
 * Checks `Authorization: Key <id>:<secret>` the way fal's inference hosts answer (reference
 * §1). The texts for a rejected key, a key without a colon and a locked account are the ones
 * seen from the live service; the text for a missing header is [?] unconfirmed.
 */
export function checkAuth(req: IncomingMessage, policy: KeyPolicy, atSubmit: boolean): AuthResult {
  const header = req.headers.authorization;
  if (!header) {
    return {
      ok: false,
      status: 401,
      body: {
        detail: 'Missing Authorization header. Send "Authorization: Key <key_id>:<key_secret>".',
      },
    };
  }
  const key = parseKey(header);
  if (!key) {
    return {
      ok: false,
      status: 401,
      body: {
        detail: "Invalid Key Authorization header format. Expected '<key_id>:<key_secret>'.",
      },
    };
  }
  if (!keyAccepted(key, policy)) {
    return { ok: false, status: 401, body: { detail: 'No user found for Key ID and Secret' } };
  }
  if (atSubmit && policy.locked.includes(key.key)) {
    return {
      ok: false,
      status: 403,
      body: {
        detail:
          'User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing.',
      },
    };
  }
  return { ok: true, keyId: key.id };
}
