-- Shared by the scripts that read or write a user's stream. The caller's
-- KEYS are: [1] the stream hash, [2] the message list. The hash holds the
-- fields epoch, seq (the newest), cursor (delivered) and, for each stored
-- message, "#<id>" -> its seq.
--
-- stream(epoch, ttl, id) returns the stream's epoch, newest seq, delivered
-- cursor and the seq of message id (false when not stored), and whether the
-- stream was created now. A missing stream (never made, expired, flushed,
-- evicted) is created with the given new epoch; what is left of its list
-- belongs to the lost stream and is deleted.
local function stream(epoch, ttl, id)
  local h = redis.call('HMGET', KEYS[1], 'epoch', 'seq', 'cursor', id)
  if h[1] then
    return h[1], tonumber(h[2] or '0'), tonumber(h[3] or '0'), h[4], false
  end
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', 0)
  redis.call('EXPIRE', KEYS[1], ttl)
  return epoch, 0, 0, false, true
end
