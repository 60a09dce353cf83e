-- Shared by the scripts that read or write a user's stream. The caller's
-- KEYS are: [1] the stream hash, [2] the message list. The hash holds the
-- fields epoch, seq (the newest), cursor (delivered), exp (the unix second
-- both keys expire at) and, for each stored message, "#<id>" -> its seq.
--
-- stream(epoch, id) returns the stream's epoch, newest seq, delivered
-- cursor, expiry and the seq of message id (false when not stored), and
-- whether the stream was created now. A missing stream (never made,
-- expired, flushed, evicted) is created with the given new epoch; what is
-- left of its list belongs to the lost stream and is deleted.
local function stream(epoch, id)
  local h = redis.call('HMGET', KEYS[1], 'epoch', 'seq', 'cursor', 'exp', id)
  if h[1] then
    return h[1], tonumber(h[2] or '0'), tonumber(h[3] or '0'), tonumber(h[4] or '0'), h[5], false
  end
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', 0)
  return epoch, 0, 0, 0, false, true
end

-- expire makes both keys live at least ttl seconds after now, moving their
-- expiry (and the exp field) only when it is more than slack seconds short
-- of that, so that most writes cost no EXPIRE.
local function expire(now, exp, ttl, slack)
  if exp >= now + ttl then
    return
  end
  exp = now + ttl + slack
  redis.call('HSET', KEYS[1], 'exp', exp)
  redis.call('EXPIREAT', KEYS[1], exp)
  redis.call('EXPIREAT', KEYS[2], exp)
end
