-- KEYS[1] seq counter, KEYS[2] message list, KEYS[3] published marker
-- ARGV[1] channel, ARGV[2] payload (a JSON object without seq),
-- ARGV[3] list cap, ARGV[4] ttl seconds
-- Returns the message's seq. A message published before keeps its seq and
-- is neither stored nor published again.
local done = redis.call('GET', KEYS[3])
if done then
  return tonumber(done)
end
local seq = redis.call('INCR', KEYS[1])
local msg = '{"seq":' .. seq .. ',' .. string.sub(ARGV[2], 2)
redis.call('RPUSH', KEYS[2], msg)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('SET', KEYS[3], seq, 'EX', ARGV[4])
redis.call('PUBLISH', ARGV[1], msg)
return seq
