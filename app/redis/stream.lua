-- Shared by the scripts that read or write a user's stream. The caller's
-- KEYS are: [1] the stream hash, [2] the message list. The hash holds the
-- fields epoch, seq (the newest), cursor (delivered), exp (the unix second
-- both keys expire at), rid (checked modes, below), for each stored
-- message, "#<id>" -> its seq, and the inbox states (inbox below).
--
-- stream(epoch, id, check) returns the stream's epoch, newest seq,
-- delivered cursor, expiry and the seq of message id (false when not
-- stored), whether the stream was created now, and its inbox fields
-- (inboxFields; all 0 for a stream made or rebased now). A missing stream
-- (never made, expired, flushed, evicted) is created with the given new
-- epoch; what is left of its list belongs to the lost stream and is
-- deleted.
--
-- check "1" (sentinel and cluster modes) also compares the replication id
-- of the server (INFO replication's master_replid, which a promoted replica
-- changes) with the one the stream was last written under (field rid). A
-- stream last written under another one may have lost its last writes in a
-- failover: its seqs could be given again to other messages. It is rebased
-- into the new epoch instead: the messages after the delivered cursor are
-- kept, renumbered from 1, the rest is dropped, and so are the inbox
-- states.
--
-- The inbox states of the stored messages live in the same hash, so that
-- they expire, are trimmed and are lost with the messages. Every stored
-- seq up to a watermark has that state: seen, read, archived (read
-- implies seen, archived implies both, so seen >= read >= archived).
-- Above them, a message marked on its own has a field "!<seq>" -> the
-- bits of its states the watermarks do not imply (1 seen, 2 read, 4
-- archived); nseen and nread count the flags with bit 1 and 2, nflag the
-- flags. The watermarks and counters are one field, "inbox" -> "seen read
-- archived nseen nread nflag" (absent: all 0), so that a publish reads one
-- field more. The stored seqs are (head - LLEN, head].
local function parseInbox(v)
  if not v then
    return {0, 0, 0, 0, 0, 0}
  end
  local f = {string.match(v, '^(%d+) (%d+) (%d+) (%d+) (%d+) (%d+)$')}
  for i = 1, 6 do
    f[i] = tonumber(f[i] or '0')
  end
  return f
end

local function inboxFields()
  return parseInbox(redis.call('HGET', KEYS[1], 'inbox'))
end

local function saveInbox(f)
  redis.call('HSET', KEYS[1], 'inbox', table.concat(f, ' ', 1, 6))
end

-- inbox(head, len, f) returns the unseen and unread counts from f (the
-- values of inboxFields).
local function inbox(head, len, f)
  local lo = head - len
  local unseen = head - math.max(f[1], lo) - f[4]
  local unread = head - math.max(f[2], lo) - f[5]
  return math.max(unseen, 0), math.max(unread, 0)
end

local function rebase(epoch, rid, head, cursor, exp, id)
  local keep = {}
  if head > cursor then
    keep = redis.call('LRANGE', KEYS[2], cursor - head, -1)
  end
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', #keep, 'rid', rid, 'exp', exp)
  local known = false
  local fields = {}
  for i = 1, #keep do
    local rest = string.match(keep[i], '^{"seq":%d+,"epoch":"[^"]*",(.*)$') or string.sub(keep[i], 2)
    keep[i] = '{"seq":' .. i .. ',"epoch":"' .. epoch .. '",' .. rest
    local mid = string.match(rest, '"id":"([^"]*)"')
    if mid then
      fields[#fields + 1] = '#' .. mid
      fields[#fields + 1] = i
      if '#' .. mid == id then
        known = i
      end
    end
  end
  for i = 1, #keep, 500 do
    redis.call('RPUSH', KEYS[2], unpack(keep, i, math.min(i + 499, #keep)))
  end
  for i = 1, #fields, 1000 do
    redis.call('HSET', KEYS[1], unpack(fields, i, math.min(i + 999, #fields)))
  end
  if exp > 0 then
    redis.call('EXPIREAT', KEYS[1], exp)
    if #keep > 0 then
      redis.call('EXPIREAT', KEYS[2], exp)
    end
  end
  return epoch, #keep, 0, exp, known, false
end

local function stream(epoch, id, check)
  local h = redis.call('HMGET', KEYS[1], 'epoch', 'seq', 'cursor', 'exp', id, 'rid', 'inbox')
  local rid = false
  if check == '1' then
    rid = string.match(redis.call('INFO', 'replication'), 'master_replid:(%w+)')
  end
  if h[1] then
    local head, cursor, exp = tonumber(h[2] or '0'), tonumber(h[3] or '0'), tonumber(h[4] or '0')
    if rid and h[6] ~= rid then
      local e, n, c, x, k = rebase(epoch, rid, head, cursor, exp, id)
      return e, n, c, x, k, false, parseInbox(false)
    end
    return h[1], head, cursor, exp, h[5], false, parseInbox(h[7])
  end
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', 0)
  if rid then
    redis.call('HSET', KEYS[1], 'rid', rid)
  end
  return epoch, 0, 0, 0, false, true, parseInbox(false)
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

