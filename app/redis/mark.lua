-- Marks messages of a user's inbox (after stream.lua; the states are
-- described there). ARGV[1] the epoch the seqs belong to ("" for the
-- current one), ARGV[2] the state's bits: 1 seen, 3 read, 7 archived (a
-- state with those it implies), ARGV[3] mode: "seq" marks message ARGV[4],
-- "up_to" every stored message up to seq ARGV[4] (a higher one counts as
-- the head), "all" every stored message. ARGV[5] the user's channel,
-- ARGV[6] the publish command (PUBLISH, or SPUBLISH on a Redis Cluster).
--
-- Returns {"ok", epoch, head, unseen, unread, changed}, {"stale", epoch}
-- when the stream is of another epoch ("" when there is none), or
-- {"not_stored", oldest, head} for a seq that is not stored. A mark that
-- changed a state publishes the new counts on the user's channel, as the
-- control message {"control":"inbox","unseen":N,"unread":M}, in the order
-- of the user's messages and other marks. up_to and all raise the
-- watermarks and visit the flags below them in chunks: at most the
-- stored messages, whatever their number.
local h = redis.call('HMGET', KEYS[1], 'epoch', 'seq')
if not h[1] or (ARGV[1] ~= '' and ARGV[1] ~= h[1]) then
  return {'stale', h[1] or ''}
end
local epoch, head = h[1], tonumber(h[2] or '0')
local len = redis.call('LLEN', KEYS[2])
local lo = head - len
local f = inboxFields()
local w = {f[1], f[2], f[3]}
local nseen, nread, nflag = f[4], f[5], f[6]
local mask = tonumber(ARGV[2])
local changed = 0

-- implied returns the bits the watermarks ws give seq s.
local function implied(ws, s)
  local b = 0
  if s <= ws[1] then b = b + 1 end
  if s <= ws[2] then b = b + 2 end
  if s <= ws[3] then b = b + 4 end
  return b
end

if ARGV[3] == 'seq' then
  local s = tonumber(ARGV[4])
  if s <= lo or s > head then
    return {'not_stored', lo + 1, head}
  end
  local field = '!' .. s
  local old = tonumber(redis.call('HGET', KEYS[1], field) or '0')
  local want = bit.band(bit.bor(old, mask), bit.bnot(implied(w, s)))
  -- A state marked on the message that follows its watermark (the stored
  -- ones below it all have it) raises the watermark instead, through the
  -- flags of that state after it: a client that marks messages in order
  -- leaves no flags.
  for i, b in ipairs({1, 2, 4}) do
    if bit.band(want, b) ~= 0 and s == math.max(w[i], lo) + 1 then
      local x = s
      while true do
        local next = '!' .. (x + 1)
        local v = tonumber(redis.call('HGET', KEYS[1], next) or '0')
        if bit.band(v, b) == 0 then
          break
        end
        x = x + 1
        v = bit.band(v, bit.bnot(b))
        if b == 1 then nseen = nseen - 1 elseif b == 2 then nread = nread - 1 end
        if v == 0 then
          redis.call('HDEL', KEYS[1], next)
          nflag = nflag - 1
        else
          redis.call('HSET', KEYS[1], next, v)
        end
      end
      w[i] = x
      changed = 1
    end
  end
  local new = bit.band(bit.bor(old, mask), bit.bnot(implied(w, s)))
  if new ~= old then
    changed = 1
    if new == 0 then
      redis.call('HDEL', KEYS[1], field)
      nflag = nflag - 1
    else
      redis.call('HSET', KEYS[1], field, new)
      if old == 0 then nflag = nflag + 1 end
    end
    for _, b in ipairs({1, 2}) do
      local d = (bit.band(new, b) ~= 0 and 1 or 0) - (bit.band(old, b) ~= 0 and 1 or 0)
      if b == 1 then nseen = nseen + d else nread = nread + d end
    end
  end
else
  local upto = head
  if ARGV[3] == 'up_to' then
    upto = math.min(tonumber(ARGV[4]), head)
  end
  local nw = {w[1], w[2], w[3]}
  local from = upto -- the lowest watermark that moves
  for i, b in ipairs({1, 2, 4}) do
    if bit.band(mask, b) ~= 0 and upto > w[i] then
      nw[i] = upto
      from = math.min(from, w[i])
      changed = 1
    end
  end
  if changed == 1 then
    if nflag > 0 then
      local s = math.max(from, lo) + 1
      while s <= upto do
        local last = math.min(s + 999, upto)
        local fields = {}
        for x = s, last do
          fields[#fields + 1] = '!' .. x
        end
        local got = redis.call('HMGET', KEYS[1], unpack(fields))
        for i = 1, #got do
          if got[i] then
            local x, old = s + i - 1, tonumber(got[i])
            local new = bit.band(old, bit.bnot(implied(nw, x)))
            if bit.band(old, 1) ~= 0 and bit.band(new, 1) == 0 then nseen = nseen - 1 end
            if bit.band(old, 2) ~= 0 and bit.band(new, 2) == 0 then nread = nread - 1 end
            if new == 0 then
              redis.call('HDEL', KEYS[1], fields[i])
              nflag = nflag - 1
            elseif new ~= old then
              redis.call('HSET', KEYS[1], fields[i], new)
            end
          end
        end
        s = last + 1
      end
    end
    w = nw
  end
end
local state = {w[1], w[2], w[3], nseen, nread, nflag}
if changed == 1 then
  saveInbox(state)
end
local unseen, unread = inbox(head, len, state)
if changed == 1 then
  redis.call(ARGV[6], ARGV[5], '{"control":"inbox","unseen":' .. unseen .. ',"unread":' .. unread .. '}')
end
return {'ok', epoch, head, unseen, unread, changed}
