-- Publishes one message (after stream.lua).
-- ARGV[1] channel, ARGV[2] message id, ARGV[3] payload (a JSON object
-- without seq), ARGV[4] history size, ARGV[5] ttl seconds, ARGV[6] the
-- epoch of a stream created now, ARGV[7] the publish command (PUBLISH).
-- Returns {seq, 1, epoch} for a message stored and published now, and
-- {seq, 0, epoch} for an id published before in this epoch: it keeps its
-- seq and is neither stored nor published again. The stored and published
-- message is {"seq":N,"epoch":"E","ts":MS,...payload}: ts is the Redis
-- server's time of the publish in unix milliseconds.
local epoch, head, _, created = stream(ARGV[6], ARGV[5])
if not created then
  local known = redis.call('ZSCORE', KEYS[3], ARGV[2])
  if known then
    return {tonumber(known), 0, epoch}
  end
end
local seq = head + 1
local size = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], 'seq', seq)
local t = redis.call('TIME')
local ts = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
local msg = '{"seq":' .. seq .. ',"epoch":"' .. epoch .. '","ts":' .. ts .. ',' .. string.sub(ARGV[3], 2)
redis.call('RPUSH', KEYS[2], msg)
redis.call('LTRIM', KEYS[2], -size, -1)
redis.call('ZADD', KEYS[3], seq, ARGV[2])
if seq > size then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', seq - size)
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('EXPIRE', KEYS[3], ARGV[5])
redis.call(ARGV[7], ARGV[1], msg)
return {seq, 1, epoch}
