/**
 * fal webhooks: signature verification against fal's JWKS, payload normalisation to the
 * polling outcome, and a node:http receiver that finalises store records idempotently.
 * Everything here uses node:crypto and node:http only, so importing it is cheap.
 */
export * from './handler.js';
export * from './headers.js';
export * from './inline-outputs.js';
export {
  createJwksCache,
  DEFAULT_WEBHOOK_JWKS_URL,
  type JwksCache,
  type JwksCacheOptions,
  MAX_JWKS_CACHE_TTL_MS,
  parseJwks,
  type WebhookKey,
  webhookJwksUrl,
} from './jwks.js';
export * from './payload.js';
export * from './server.js';
export * from './types.js';
export * from './verify.js';
