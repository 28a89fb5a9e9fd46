/**
 * The Lua scripts a node runs in Redis (`RedisLink`), each atomic: leasing places of a shared
 * count in a holder's name, the holders' heartbeat that gives back the places of silent ones, a
 * holder leaving, and one attempt in a sliding window.
 */

/** The helpers every holder's script shares: the keys naming a holder, and `settle`. */
const HOLDERS = `
local function aliveKey(prefix, holder) return prefix .. 'node:' .. holder end
local function heldByKey(prefix, holder) return prefix .. 'held-by:' .. holder end
-- What a holder did with its places at \`key\` since it last said: \`used\` of them by successful
-- actions, \`fenced\` left unused (it stopped trusting them). \`holds\` is 1 when it holds places
-- there in its name, as far as it knows. Answers 1 when they were given back meanwhile (it was
-- silent for too long): its uses are then counted anew, since the count no longer holds them.
local function settle(key, holder, used, fenced, holds)
  if holds ~= 1 then return 0 end
  local heldKey = key .. ':held'
  if redis.call('HEXISTS', heldKey, holder) == 1 then
    if used + fenced > 0 then redis.call('HINCRBY', heldKey, holder, -(used + fenced)) end
    if fenced > 0 then redis.call('DECRBY', key, fenced) end
    return 0
  end
  if used > 0 then redis.call('INCRBY', key, used) end
  return 1
end
`;

/**
 * Takes up to a block of places from the shared budget of one period, atomically, after adding
 * the places the node admitted that the count does not hold yet (ARGV[6], used while Redis was
 * lost). The block shrinks near the limit (a share of what is left per node), so a limit of 10
 * admits exactly 10. Returns {places taken, total taken by every node, epoch, returned}, or:
 * - {-2, 0, epoch} when the node's epoch (ARGV[7]) is not Redis's (KEYS[2], created with ARGV[8],
 *   a name never used before, when missing): Redis lost every count (restarted empty) or the node
 *   has not met it yet;
 * - {-1, 0, epoch} when the period has no count yet and the node gave no seed (ARGV[1] empty):
 *   it reads one (the database's count) and asks again.
 * A holder (ARGV[9], a node's id; empty for rate windows, which end by themselves) first settles
 * what it did with its places since it last said (settle, ARGV[11], [12] and [14]), then has its
 * new block written against its name, so another node can give the places back if this one stops
 * without closing (REPORT). `returned` is 1 when that happened to this holder's places at KEYS[1].
 */
export const LEASE = `${HOLDERS}
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[8]
  redis.call('SET', KEYS[2], epoch)
end
if epoch ~= ARGV[7] then return {-2, 0, epoch, 0} end
if redis.call('EXISTS', KEYS[1]) == 0 then
  if ARGV[1] == '' then return {-1, 0, epoch, 0} end
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[5])
end
local holder = ARGV[9]
local returned = 0
if holder ~= '' then
  returned = settle(KEYS[1], holder, tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[14]))
  redis.call('SET', aliveKey(ARGV[13], holder), '1', 'PX', ARGV[10])
end
local taken = tonumber(redis.call('INCRBY', KEYS[1], ARGV[6]))
local left = tonumber(ARGV[2]) - taken
if left <= 0 then return {0, taken, epoch, returned} end
local block = math.max(1, math.min(tonumber(ARGV[3]), math.floor(left / tonumber(ARGV[4]))))
if holder ~= '' then
  redis.call('HINCRBY', KEYS[1] .. ':held', holder, block)
  redis.call('EXPIRE', KEYS[1] .. ':held', ARGV[5])
  redis.call('SADD', heldByKey(ARGV[13], holder), KEYS[1])
  redis.call('EXPIRE', heldByKey(ARGV[13], holder), ARGV[5])
  redis.call('SADD', ARGV[13] .. 'holders', holder)
end
return {block, redis.call('INCRBY', KEYS[1], block), epoch, returned}
`;

/**
 * A holder's heartbeat (every REPORT_EVERY_MS): says it is alive (for ARGV[3] ms), settles what it
 * did with its places at each key it names (triples from ARGV[5]: key, used, fenced; it holds
 * places at each), then gives back the places of holders that stopped without closing (no
 * heartbeat within their time).
 * Returns {places given back from stopped holders, keys at which this holder's own places had
 * been given back...}, or {-1, epoch} when the holder's epoch (ARGV[1]) is not Redis's (KEYS[1]).
 */
export const REPORT = `${HOLDERS}
local epoch = redis.call('GET', KEYS[1])
if epoch ~= ARGV[1] then return {-1, epoch or ''} end
local holder, prefix = ARGV[2], ARGV[4]
redis.call('SET', aliveKey(prefix, holder), '1', 'PX', ARGV[3])
local result = {0}
for i = 5, #ARGV, 3 do
  if redis.call('EXISTS', ARGV[i]) == 1 and settle(ARGV[i], holder, tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), 1) == 1 then
    table.insert(result, ARGV[i])
  end
end
local returned = 0
for _, other in ipairs(redis.call('SMEMBERS', prefix .. 'holders')) do
  if other ~= holder and redis.call('EXISTS', aliveKey(prefix, other)) == 0 then
    for _, key in ipairs(redis.call('SMEMBERS', heldByKey(prefix, other))) do
      local places = tonumber(redis.call('HGET', key .. ':held', other) or '0')
      if places > 0 and redis.call('EXISTS', key) == 1 then
        redis.call('DECRBY', key, places)
        returned = returned + places
      end
      redis.call('HDEL', key .. ':held', other)
    end
    redis.call('DEL', heldByKey(prefix, other))
    redis.call('SREM', prefix .. 'holders', other)
  end
end
result[1] = returned
return result
`;

/** A holder closing: its places were given back or used; nothing is held in its name any more. */
export const LEAVE = `${HOLDERS}
local holder, prefix = ARGV[1], ARGV[2]
for _, key in ipairs(redis.call('SMEMBERS', heldByKey(prefix, holder))) do redis.call('HDEL', key .. ':held', holder) end
redis.call('DEL', heldByKey(prefix, holder), aliveKey(prefix, holder))
redis.call('SREM', prefix .. 'holders', holder)
return 0
`;

/**
 * Counts one attempt in a sliding window (a sorted set of attempt times), atomically: drops the
 * attempts older than the window, then either refuses (the subject is at its limit: returns the
 * seconds until the oldest attempt that counts leaves the window) or adds this attempt and returns 0.
 * KEYS[1] the subject's set; ARGV: now (ms), window (ms), limit, a unique member for this attempt.
 */
export const ATTEMPT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
  return math.max(1, math.ceil((tonumber(oldest[2]) + window - now) / 1000))
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 0
`;
