/** Options of the emulator's Platform API (`startEmulator({ platform })`). */
export interface PlatformOptions {
  /**
   * Full `id:secret` keys with fal's ADMIN scope: only they may read billing events, usage and
   * the account's billing; API keys get 403 there, as fal answers. They are accepted wherever a
   * key is, whatever `keys.accept` says. @default []
   */
  adminKeys?: string[];
  /** The account's `username` in `GET /v1/account/billing`. @default 'emulator' */
  username?: string;
  /**
   * The account's credits in USD before any request; each billed result lowers the balance by
   * its cost. [?] The default is the emulator's own (fal's starting credits vary). @default 100
   */
  credits?: number;
  /**
   * Per-key (or anonymous) rate limit on Platform API calls: more than `requests` calls in a
   * window of `windowMs` answer 429 `rate_limited` with `Retry-After`. @default none
   */
  rateLimit?: { requests: number; windowMs?: number };
}
