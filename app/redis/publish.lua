-- KEYS[1] seq counter, KEYS[2] message list, KEYS[3] published marker
-- ARGV[1] channel, ARGV[2] payload (a JSON object without seq),
-- ARGV[3] list cap, ARGV[4] ttl seconds
-- Returns {seq, 1} for a message stored and published now, {seq, 0} for one
-- published before: it keeps its seq and is neither stored nor published
-- again. The message is {"seq":N,"ts":MS,...payload}: ts is the Redis
-- server's time of the publish in unix milliseconds.
local done = redis.call('GET', KEYS[3])
if done then
  return {tonumber(done), 0}
end
local seq = redis.call('INCR', KEYS[1])
local t = redis.call('TIME')
local ts = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
local msg = '{"seq":' .. seq .. ',"ts":' .. ts .. ',' .. string.sub(ARGV[2], 2)
redis.call('RPUSH', KEYS[2], msg)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('SET', KEYS[3], seq, 'EX', ARGV[4])
redis.call('PUBLISH', ARGV[1], msg)
return {seq, 1}
