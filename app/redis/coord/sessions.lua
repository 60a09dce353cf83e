-- Admits a new session of one user.
-- KEYS[1]: the user's Sessions sorted set (member: session id, which sorts
--          oldest first; score: unix ms it counts until).
-- KEYS[2]: the user's Revoked key (unix second until which new sessions
--          are refused), read in the same step: a revoked user's session
--          is not admitted (and evicts no one).
-- KEYS[3]: the user's Evicted sorted set (member: a session id the limit
--          closed; score: unix ms the mark is kept until), which the
--          evicted session reads once its node is subscribed, and on every
--          refresh: a control message published before then is not lost.
-- ARGV: now_ms, the new session's id suffix, its expiry (ms), the limit,
--       the policy ("refuse" or "close_oldest"), the keys' TTL (ms).
-- The id starts with Redis's clock in microseconds, so that ids sort in
-- the order the sessions were admitted, whichever node admitted them.
-- Returns {1, id, evicted ids...} when admitted, {0} when refused by the
-- limit, {-1, until} when the user is revoked until then.
local key = KEYS[1]
local revoked = redis.call('GET', KEYS[2])
if revoked and tonumber(revoked) * 1000 > tonumber(ARGV[1]) then
  return {-1, revoked}
end
local t = redis.call('TIME')
local now, exp = ARGV[1], ARGV[3]
local id = string.format('%010d%06d-', tonumber(t[1]), tonumber(t[2])) .. ARGV[2]
local limit = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. now)
local n = redis.call('ZCARD', key)
local out = {1, id}
if n >= limit then
  if ARGV[5] == 'refuse' then
    return {0}
  end
  local all = redis.call('ZRANGE', key, 0, -1)
  table.sort(all)
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. now)
  for i = 1, n - limit + 1 do
    redis.call('ZREM', key, all[i])
    redis.call('ZADD', KEYS[3], exp, all[i])
    out[#out + 1] = all[i]
  end
  redis.call('PEXPIRE', KEYS[3], ARGV[6])
end
redis.call('ZADD', key, exp, id)
redis.call('PEXPIRE', key, ARGV[6])
return out
