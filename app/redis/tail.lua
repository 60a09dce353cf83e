-- KEYS[1] seq counter, KEYS[2] message list
-- ARGV[1] after (a seq), ARGV[2] page size
-- Returns {head, truncated, msg...}: head is the user's newest seq; the
-- messages are those with seq > after, oldest first, at most a page. The
-- list holds consecutive seqs ending at head, so the wanted ones are its
-- last head-after entries; truncated is 1 when some of them were trimmed
-- or expired (the page then starts at the oldest stored message).
local head = tonumber(redis.call('GET', KEYS[1]) or '0')
local after = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
if head <= after then
  return {head, 0}
end
local len = redis.call('LLEN', KEYS[2])
local n = head - after
local truncated = 0
if n > len then
  n = len
  truncated = 1
end
local out = {head, truncated}
if n == 0 then
  return out
end
local stop = -n + limit - 1
if stop > -1 then
  stop = -1
end
local msgs = redis.call('LRANGE', KEYS[2], -n, stop)
for i = 1, #msgs do
  out[#out + 1] = msgs[i]
end
return out
