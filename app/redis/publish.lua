-- Publishes one message (after stream.lua).
-- ARGV[1] channel, ARGV[2] "#" .. message id, ARGV[3] payload (a JSON
-- object without seq, its first key "id"), ARGV[4] history size, ARGV[5]
-- ttl seconds, ARGV[6] expiry slack seconds, ARGV[7] the epoch of a stream
-- created now, ARGV[8] the publish command (PUBLISH, or SPUBLISH on a Redis Cluster), ARGV[9]
-- "1" to check the stream's replication id (stream.lua).
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
local epoch, head, _, exp, known = stream(ARGV[7], ARGV[2], ARGV[9])
if known then
  return {tonumber(known), 0, epoch}
end
local seq = head + 1
redis.call('HSET', KEYS[1], 'seq', seq, ARGV[2], seq)
local t = redis.call('TIME')
local ts = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
local msg = '{"seq":' .. seq .. ',"epoch":"' .. epoch .. '","ts":' .. ts .. ',' .. string.sub(ARGV[3], 2)
local len = redis.call('RPUSH', KEYS[2], msg)
local over = len - tonumber(ARGV[4])
local f = inboxFields()
if over > 0 then
  for _, old in ipairs(redis.call('LPOP', KEYS[2], over)) do
    local id = string.match(old, '"id":"([^"]*)"')
    if id then
      redis.call('HDEL', KEYS[1], '#' .. id)
    end
  end
  local nflag = tonumber(f[6] or '0')
  if nflag > 0 then
    local first, arch = seq - len + 1, tonumber(f[3] or '0')
    local nseen, nread = tonumber(f[4] or '0'), tonumber(f[5] or '0')
    for s = math.max(first, arch + 1), first + over - 1 do
      local b = redis.call('HGET', KEYS[1], '!' .. s)
      if b then
        b = tonumber(b)
        redis.call('HDEL', KEYS[1], '!' .. s)
        nflag = nflag - 1
        if bit.band(b, 1) ~= 0 then nseen = nseen - 1 end
        if bit.band(b, 2) ~= 0 then nread = nread - 1 end
      end
    end
    redis.call('HSET', KEYS[1], 'nflag', nflag, 'nseen', nseen, 'nread', nread)
    f[4], f[5] = nseen, nread
  end
  len = len - over
end
expire(tonumber(t[1]), exp, tonumber(ARGV[5]), tonumber(ARGV[6]))
local unseen, unread = inbox(seq, len, f)
redis.call(ARGV[8], ARGV[1], msg .. '\n{"unseen":' .. unseen .. ',"unread":' .. unread .. '}')
return {seq, 1, epoch}
