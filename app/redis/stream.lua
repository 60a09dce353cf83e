-- Shared by the scripts that read or write a user's stream. The caller's
-- KEYS are: [1] the stream hash (epoch, seq, cursor), [2] the message list,
-- [3] the message ids (sorted set id -> seq).
--
-- stream(epoch, ttl) returns the stream's epoch, newest seq and delivered
-- cursor, and whether it was created now. A missing stream (never made,
-- expired, flushed, evicted) is created with the given new epoch; what is
-- left of its list and ids belongs to the lost stream and is deleted.
local function stream(epoch, ttl)
  local h = redis.call('HMGET', KEYS[1], 'epoch', 'seq', 'cursor')
  if h[1] then
    return h[1], tonumber(h[2] or '0'), tonumber(h[3] or '0'), false
  end
  redis.call('DEL', KEYS[2], KEYS[3])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', 0)
  redis.call('EXPIRE', KEYS[1], ttl)
  return epoch, 0, 0, true
end
