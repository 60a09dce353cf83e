-- KEYS[1] cursor; ARGV[1] seq, ARGV[2] ttl seconds. Raises the cursor to
-- seq (never lowers it) and refreshes its expiry.
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
else
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 1
