/**
 * `@falai/store-redis`: a `PendingStore` on Redis for teams whose processes run on many
 * machines: Lua scripts for every change, server-clock leases, retention for finished records.
 */
export { createRedisStore, HASH_TAG, type RedisStoreOptions, redisKeys } from './redis-store.js';
