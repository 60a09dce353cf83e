-- Publishes one message (after stream.lua).
-- ARGV[1] channel, ARGV[2] "#" .. message id, ARGV[3] payload (a JSON
-- object without seq, its first key "id"), ARGV[4] history size, ARGV[5]
-- ttl seconds, ARGV[6] expiry slack seconds, ARGV[7] the epoch of a stream
-- created now, ARGV[8] the publish command (PUBLISH, or SPUBLISH on a Redis Cluster), ARGV[9]
-- "1" to check the stream's replication id (stream.lua), ARGV[10] "1" for a
-- message its user muted in the app but keeps in the list.
-- Returns {seq, 1, epoch} for a message stored and published now, and
-- {seq, 0, epoch} for an id stored in this epoch already: it keeps its seq
-- and is neither stored nor published again. The stored and published
-- message is {"seq":N,"epoch":"E","ts":MS,...payload}: ts is the Redis
-- server's time of the publish in unix milliseconds. The ids of the stored
-- messages are kept in the hash and trimmed with the list; both keys live
-- ttl (to ttl + slack) seconds after the last message. The inbox flags
-- of trimmed messages are deleted with them (stream.lua). The published
-- copy is followed by a line the subscriber strips, the user's inbox
-- counts after the message: "\n{"unseen":N,"unread":M}".
--
-- A muted message (ARGV[10]) is stored as
-- {"seq":N,"epoch":"E","ts":MS,"muted":true,...payload}, already seen and
-- read (as mark.lua marks one message: the watermark it follows rises,
-- else a flag), so the counts do not move, and it is not published: no
-- session receives it, and one reading the stored stream skips it.
local epoch, head, _, exp, known, _, f = stream(ARGV[7], ARGV[2], ARGV[9])
if known then
  return {tonumber(known), 0, epoch}
end
local seq = head + 1
redis.call('HSET', KEYS[1], 'seq', seq, ARGV[2], seq)
local t = redis.call('TIME')
local ts = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
local muted = ARGV[10] == '1'
local mark = ','
if muted then
  mark = ',"muted":true,'
end
local msg = '{"seq":' .. seq .. ',"epoch":"' .. epoch .. '","ts":' .. ts .. mark .. string.sub(ARGV[3], 2)
local len = redis.call('RPUSH', KEYS[2], msg)
local dirty = false
if muted then
  local lo = seq - len -- the stored seqs before this one are (lo, head]
  -- Seen and read: a watermark that the message follows rises to it (the
  -- stored messages below it all have that state), else the message gets
  -- a flag with the bits of the states no watermark gives it.
  local bits = 0
  for i, b in ipairs({1, 2}) do
    if math.max(f[i], lo) == head then
      f[i] = seq
    else
      bits = bits + b
      f[3 + i] = f[3 + i] + 1
    end
  end
  if bits ~= 0 then
    redis.call('HSET', KEYS[1], '!' .. seq, bits)
    f[6] = f[6] + 1
  end
  dirty = true
end
local over = len - tonumber(ARGV[4])
if over > 0 then
  for _, old in ipairs(redis.call('LPOP', KEYS[2], over)) do
    local id = string.match(old, '"id":"([^"]*)"')
    if id then
      redis.call('HDEL', KEYS[1], '#' .. id)
    end
  end
  if f[6] > 0 then
    local first = seq - len + 1
    for s = math.max(first, f[3] + 1), first + over - 1 do
      local b = redis.call('HGET', KEYS[1], '!' .. s)
      if b then
        b = tonumber(b)
        redis.call('HDEL', KEYS[1], '!' .. s)
        f[6] = f[6] - 1
        if bit.band(b, 1) ~= 0 then f[4] = f[4] - 1 end
        if bit.band(b, 2) ~= 0 then f[5] = f[5] - 1 end
      end
    end
    dirty = true
  end
  len = len - over
end
if dirty then
  saveInbox(f)
end
expire(tonumber(t[1]), exp, tonumber(ARGV[5]), tonumber(ARGV[6]))
if not muted then
  local unseen, unread = inbox(seq, len, f)
  redis.call(ARGV[8], ARGV[1], msg .. '\n{"unseen":' .. unseen .. ',"unread":' .. unread .. '}')
end
return {seq, 1, epoch}
