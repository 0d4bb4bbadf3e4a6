export { unquoteKey } from '../redact/mask.js';

/** What `check-key` and the resolved credentials say about a key that was unquoted. */
export const UNQUOTED_NOTE =
  'the key was wrapped in quotes, which falai removed; other tools may not, so write it without them (FAL_KEY=<key_id>:<key_secret>)';
