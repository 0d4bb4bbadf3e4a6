export { isExactBigInteger, parseJsonExact, stringifyJsonExact } from './exact.js';
