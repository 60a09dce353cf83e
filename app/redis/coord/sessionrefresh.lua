-- Keeps one open session of a user counted (its node runs this for each of
-- its sessions every refresh).
-- KEYS[1]: the user's Sessions sorted set, KEYS[2]: its Evicted set
--          (sessions.lua).
-- ARGV: the session id, now (ms), its new expiry (ms), the limit, the
--       keys' TTL (ms).
-- Returns 1 when the session still counts, 0 when it must close: the limit
-- evicted it, or it fell out of the set (Redis lost it, or its node could
-- not refresh it in time) and the user has the most sessions allowed
-- without it. A session that fell out while there is room counts again.
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return 0
end
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
    redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
    redis.call('PEXPIRE', KEYS[2], ARGV[5])
    return 0
  end
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
