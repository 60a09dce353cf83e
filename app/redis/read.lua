-- Reads a page of a user's stored messages (after stream.lua).
-- ARGV[1] mode: "resume" continues after seq ARGV[3] of epoch ARGV[2] (""
-- when the client did not say); "cursor" continues after the delivered
-- cursor, or after ARGV[3] when ARGV[2] is the current epoch and ARGV[3]
-- is higher (an advance not yet written), or after ARGV[10] when ARGV[9]
-- is (the node's advance of another epoch).
-- ARGV[4] page size, ARGV[5] the epoch of a stream created now, ARGV[6] ttl
-- seconds, ARGV[7] expiry slack seconds (a stream created now expires),
-- ARGV[8] "1" to check the stream's replication id (stream.lua).
-- ARGV[11] "1" to return the messages' inbox states (stream.lua).
-- Returns {epoch, head, after, truncated, reset, unseen, unread, seen,
-- read, archived, msg..., flag...}: the inbox counts and watermarks, the
-- messages and, with ARGV[11], each message's flag bits. The messages are
-- those with seq > after, oldest first, at most a page. The list holds
-- consecutive seqs ending at head, so they are its last head-after
-- entries. reset is 1 when the position asked for is of another epoch or
-- ahead of head (the page then starts at the stream's beginning);
-- truncated is 1 when some wanted messages were trimmed or expired (the
-- page then starts at the oldest stored one). after says where the page
-- really starts.
local epoch, head, cursor, exp, _, created, f = stream(ARGV[5], 'epoch', ARGV[8])
if created then
  expire(tonumber(redis.call('TIME')[1]), exp, tonumber(ARGV[6]), tonumber(ARGV[7]))
end
local len = redis.call('LLEN', KEYS[2])
local unseen, unread = inbox(head, len, f)
local after = tonumber(ARGV[3])
local reset = 0
if ARGV[1] == 'cursor' then
  if ARGV[2] ~= epoch then
    after = 0
  end
  if ARGV[9] == epoch and tonumber(ARGV[10]) > after then
    after = tonumber(ARGV[10])
  end
  if cursor > after then
    after = cursor
  end
  if after > head then
    after = head
  end
elseif (ARGV[2] ~= '' and ARGV[2] ~= epoch) or after > head then
  after, reset = 0, 1
end
local truncated = 0
if head > after and head - after > len then
  after, truncated = head - len, 1
end
local out = {epoch, head, after, truncated, reset, unseen, unread, f[1], f[2], f[3]}
local n = head - after
if n <= 0 then
  return out
end
local stop = -n + tonumber(ARGV[4]) - 1
if stop > -1 then
  stop = -1
end
local msgs = redis.call('LRANGE', KEYS[2], -n, stop)
for i = 1, #msgs do
  out[#out + 1] = msgs[i]
end
if ARGV[11] == '1' then
  local fields = {}
  for i = 1, #msgs do
    fields[i] = '!' .. (after + i)
  end
  local flags = {}
  if f[6] > 0 then
    flags = redis.call('HMGET', KEYS[1], unpack(fields))
  end
  for i = 1, #msgs do
    out[#out + 1] = tonumber(flags[i] or '0')
  end
end
return out
