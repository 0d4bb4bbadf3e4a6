export { isExactBigInteger, parseJsonExact, stringifyJsonExact } from './exact.js';
export {
  assertSafeInput,
  assertSafePath,
  findUnsafeKey,
  isUnsafeKey,
  UNSAFE_KEYS,
} from './unsafe-keys.js';
