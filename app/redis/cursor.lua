-- KEYS[1] stream hash; ARGV[1] epoch, ARGV[2] seq. Raises the delivered
-- cursor to seq (never lowers it) when the stream is still of that epoch.
local h = redis.call('HMGET', KEYS[1], 'epoch', 'cursor')
if h[1] == ARGV[1] and tonumber(ARGV[2]) > tonumber(h[2] or '0') then
  redis.call('HSET', KEYS[1], 'cursor', ARGV[2])
end
return 1
