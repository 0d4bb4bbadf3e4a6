import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  jwk: { kty: string; crv: string; x: string; kid: string; use: string; alg: string };
}

function newKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const exported = publicKey.export({ format: 'jwk' }) as { x: string };
  const kid = `emulator-${randomBytes(6).toString('hex')}`;
  return {
    kid,
    privateKey,
    jwk: { kty: 'OKP', crv: 'Ed25519', x: exported.x, kid, use: 'sig', alg: 'EdDSA' },
  };
}

/**
 * Ed25519 keys that sign webhook deliveries exactly as fal does (reference §7); the public
 * half is served as a JWKS so clients verify without holding a secret.
 */
export class WebhookSigner {
  private current = newKey();
  private previous: SigningKey[] = [];

  /** The JWKS document: the current key, plus kept previous keys after a rotation. */
  get jwks(): { keys: object[] } {
    return { keys: [this.current.jwk, ...this.previous.map((key) => key.jwk)] };
  }

  /** Switches to a new key; returns its kid. */
  rotate(keepPrevious = false): string {
    this.previous = keepPrevious ? [this.current, ...this.previous] : [];
    this.current = newKey();
    return this.current.kid;
  }

  /** The four `X-Fal-Webhook-*` headers for one delivery body. */
  headers(requestId: string, userId: string, body: Buffer, now = Date.now()) {
    const timestamp = String(Math.floor(now / 1000));
    const bodyHash = createHash('sha256').update(body).digest('hex');
    const message = Buffer.from([requestId, userId, timestamp, bodyHash].join('\n'), 'utf8');
    const signature = sign(null, message, this.current.privateKey).toString('hex');
    return {
      'x-fal-webhook-request-id': requestId,
      'x-fal-webhook-user-id': userId,
      'x-fal-webhook-timestamp': timestamp,
      'x-fal-webhook-signature': signature,
    };
  }
}

/** Webhooks go only to this machine: the emulator must never post to the internet. */
export function isLoopbackUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

/** A stable, non-secret user id derived from the key id (never the key itself). */
export function userIdFor(keyId: string | undefined): string {
  if (!keyId) return 'emulator-user';
  return `user-${createHash('sha256').update(keyId).digest('hex').slice(0, 16)}`;
}
