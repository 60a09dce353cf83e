-- Reads a page of a user's inbox, newest first (after stream.lua; the
-- states are described there). ARGV[1] the seq to read below (0: from the
-- head), ARGV[2] how many stored messages to read at most.
-- Returns {epoch, head, unseen, unread, seen, read, archived, top, oldest, msg...,
-- flag...}: oldest is the oldest stored seq; the stored messages top, top-1, ... (as many as are stored,
-- at most ARGV[2]), then each one's flag bits (0: none). epoch is "" when
-- the user has no stream.
local h = redis.call('HMGET', KEYS[1], 'epoch', 'seq')
if not h[1] then
  return {''}
end
local head = tonumber(h[2] or '0')
local len = redis.call('LLEN', KEYS[2])
local lo = head - len
local f = inboxFields()
local unseen, unread = inbox(head, len, f)
local top = head
local before = tonumber(ARGV[1])
if before > 0 then
  top = math.min(before - 1, head)
end
local out = {h[1], head, unseen, unread, f[1], f[2], f[3], top, lo + 1}
local n = math.min(tonumber(ARGV[2]), top - lo)
if n <= 0 then
  return out
end
-- The list holds seqs lo+1..head: seq s is at index s - lo - 1.
local msgs = redis.call('LRANGE', KEYS[2], top - n - lo, top - lo - 1)
local fields = {}
for i = #msgs, 1, -1 do
  out[#out + 1] = msgs[i]
  fields[#fields + 1] = '!' .. (top - #msgs + i)
end
local flags = {}
if f[6] > 0 then
  flags = redis.call('HMGET', KEYS[1], unpack(fields))
end
for i = 1, #fields do
  out[#out + 1] = tonumber(flags[i] or '0')
end
return out
