/**
 * The Lua scripts of the Redis store. Each touches only the keys it is given, all of which
 * share one hash tag, so they run unchanged on Redis Cluster. Lease times come from the
 * server's `TIME`, so pollers on machines with skewed clocks still agree on expiry.
 *
 * A record is a hash: `data` (the record JSON without its lease), `status`, `v` (a version
 * bumped on every data write), `lo`/`le` (lease owner, lease expiry in epoch ms), and the
 * search fields `p` (the prompt's words) and `e` (the endpoint), written by `PUT`.
 */

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

const RETAIN = `
local function retain(key, ttl)
  if tonumber(ttl) > 0 then redis.call('EXPIRE', key, ttl) else redis.call('PERSIST', key) end
end
`;

/**
 * KEYS: rec, idx. ARGV: data, status, score, id, leaseOwner|'', leaseExpiryMs|'', ttl,
 * promptWords, endpoint. The last two are the record's search fields `p` and `e` (history
 * search reads them on the server; see history.ts).
 */
export const PUT = `${RETAIN}
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'status', ARGV[2], 'p', ARGV[8], 'e', ARGV[9])
redis.call('HINCRBY', KEYS[1], 'v', 1)
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[1], 'lo', ARGV[5], 'le', ARGV[6])
else
  redis.call('HDEL', KEYS[1], 'lo', 'le')
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
retain(KEYS[1], ARGV[7])
return 1
`;

/**
 * KEYS: rec, idx. ARGV: expectedVersion, data, status, score, id, ttl,
 * statusCondition (comma list)|'', leaseOwnerCondition|''.
 * Returns {outcome, leaseOwner|false, leaseExpiry|false}; outcome is
 * missing | retry (changed since read) | conflict | updated.
 */
export const UPDATE = `${RETAIN}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local cur = redis.call('HMGET', KEYS[1], 'v', 'status', 'lo', 'le')
if cur[1] ~= ARGV[1] then return {'retry'} end
if ARGV[7] ~= '' then
  local ok = false
  for s in string.gmatch(ARGV[7], '[^,]+') do
    if s == cur[2] then ok = true end
  end
  if not ok then return {'conflict', cur[3], cur[4]} end
end
if ARGV[8] ~= '' then
  ${NOW}
  if cur[3] ~= ARGV[8] or tonumber(cur[4] or '0') <= now then
    return {'conflict', cur[3], cur[4]}
  end
end
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'status', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
retain(KEYS[1], ARGV[6])
return {'updated', cur[3], cur[4]}
`;

/** KEYS: rec. ARGV: owner, ttlMs. Returns {claimed|held|missing, owner, expiryMs, data}. */
export const CLAIM = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
${NOW}
local cur = redis.call('HMGET', KEYS[1], 'lo', 'le', 'data')
local exp = tonumber(cur[2] or '0')
if cur[1] and cur[1] ~= ARGV[1] and exp > now then
  return {'held', cur[1], cur[2], cur[3]}
end
local until_ms = string.format('%.0f', now + tonumber(ARGV[2]))
redis.call('HSET', KEYS[1], 'lo', ARGV[1], 'le', until_ms)
return {'claimed', ARGV[1], until_ms, cur[3]}
`;

/** KEYS: rec. ARGV: owner, ttlMs. Returns 1 when the live lease of `owner` was extended. */
export const RENEW = `
${NOW}
local cur = redis.call('HMGET', KEYS[1], 'lo', 'le')
if cur[1] ~= ARGV[1] or tonumber(cur[2] or '0') <= now then return 0 end
redis.call('HSET', KEYS[1], 'le', string.format('%.0f', now + tonumber(ARGV[2])))
return 1
`;

/** KEYS: rec. ARGV: owner. Returns 1 when `owner` held the lease and it was dropped. */
export const RELEASE = `
if redis.call('HGET', KEYS[1], 'lo') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'lo', 'le')
return 1
`;

/** KEYS: rec, idx. ARGV: id. Returns 1 when the record existed. */
export const REMOVE = `
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return n
`;

/**
 * KEYS: idx, rec1..recN. ARGV: id1..idN. Drops index entries whose record expired (retention),
 * checking existence inside the script so a record re-put meanwhile keeps its entry.
 */
export const PRUNE = `
local removed = 0
for i = 1, #ARGV do
  if redis.call('EXISTS', KEYS[i + 1]) == 0 then
    removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return removed
`;

/**
 * The budget ledger. A scope is a hash `bgt:<scope>` with the running sums `spent` and
 * `reserved` (integer micro-dollars), `until` (keep the scope until then, epoch ms), and one
 * field per request: `r:<key>` (a live reservation's amount) or `s:<key>` (a settled actual);
 * beside it a sorted set `bgl:<scope>` of the reservations by expiry (server time), so expired
 * ones leave the sums before every decision. Both keys expire at `until`.
 *
 * Numbers go back to Redis through `string.format('%.0f')`: Lua would write 1e15 as `1e+15`.
 */
const BUDGET_COMMON = `${NOW}
local function s(x) return string.format('%.0f', x) end
local function prune()
  local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', s(now))
  for _, k in ipairs(expired) do
    local held = redis.call('HGET', KEYS[1], 'r:' .. k)
    if held then
      redis.call('HINCRBY', KEYS[1], 'reserved', s(-tonumber(held)))
      redis.call('HDEL', KEYS[1], 'r:' .. k)
    end
  end
  if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', s(now)) end
end
local function retain(until_ms)
  local cur = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
  if until_ms > cur then
    redis.call('HSET', KEYS[1], 'until', s(until_ms))
    cur = until_ms
  end
  redis.call('PEXPIREAT', KEYS[1], s(cur))
  if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIREAT', KEYS[2], s(cur)) end
end
local function sums()
  return redis.call('HGET', KEYS[1], 'spent') or '0', redis.call('HGET', KEYS[1], 'reserved') or '0'
end
prune()
`;

/**
 * KEYS: bgt, bgl. ARGV: requestKey, amount, cap, ttlMs, windowEndMs, retentionMs (micros, ms).
 * Returns {outcome, amount, spent, reserved}: outcome `duplicate` (the key already holds or
 * spent `amount`), `refused`, or `reserved` (sums after the reservation).
 */
export const BUDGET_RESERVE = `${BUDGET_COMMON}
local spent, reserved = sums()
local settled = redis.call('HGET', KEYS[1], 's:' .. ARGV[1])
if settled then return {'duplicate', settled, spent, reserved} end
local held = redis.call('HGET', KEYS[1], 'r:' .. ARGV[1])
if held then return {'duplicate', held, spent, reserved} end
local amount = tonumber(ARGV[2])
if tonumber(spent) + tonumber(reserved) + amount > tonumber(ARGV[3]) then
  return {'refused', ARGV[2], spent, reserved}
end
local expires = now + tonumber(ARGV[4])
redis.call('HSET', KEYS[1], 'r:' .. ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[1], 'reserved', ARGV[2])
redis.call('ZADD', KEYS[2], s(expires), ARGV[1])
retain(math.max(tonumber(ARGV[5]), expires) + tonumber(ARGV[6]))
spent, reserved = sums()
return {'reserved', ARGV[2], spent, reserved}
`;

/**
 * KEYS: bgt, bgl. ARGV: requestKey, actual, windowEndMs, retentionMs.
 * Returns {previous, spent, reserved}; previous is reserved | settled | missing.
 */
export const BUDGET_SETTLE = `${BUDGET_COMMON}
local previous = 'missing'
local old = redis.call('HGET', KEYS[1], 's:' .. ARGV[1])
if old then
  previous = 'settled'
  redis.call('HINCRBY', KEYS[1], 'spent', s(-tonumber(old)))
else
  local held = redis.call('HGET', KEYS[1], 'r:' .. ARGV[1])
  if held then
    previous = 'reserved'
    redis.call('HINCRBY', KEYS[1], 'reserved', s(-tonumber(held)))
    redis.call('HDEL', KEYS[1], 'r:' .. ARGV[1])
    redis.call('ZREM', KEYS[2], ARGV[1])
  end
end
redis.call('HSET', KEYS[1], 's:' .. ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[1], 'spent', ARGV[2])
retain(math.max(tonumber(ARGV[3]), now) + tonumber(ARGV[4]))
local spent, reserved = sums()
return {previous, spent, reserved}
`;

/** KEYS: bgt, bgl. ARGV: requestKey. Returns 1 when a live reservation was dropped. */
export const BUDGET_RELEASE = `${BUDGET_COMMON}
local held = redis.call('HGET', KEYS[1], 'r:' .. ARGV[1])
if not held then return 0 end
redis.call('HINCRBY', KEYS[1], 'reserved', s(-tonumber(held)))
redis.call('HDEL', KEYS[1], 'r:' .. ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`;

/** KEYS: bgt, bgl. Returns {spent, reserved} after dropping expired reservations. */
export const BUDGET_USAGE = `${BUDGET_COMMON}
local spent, reserved = sums()
return {spent, reserved}
`;
