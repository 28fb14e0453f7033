-- Runs by status created in a time window (RunStore.countRuns): one round trip, only the counts travel back.
-- KEYS[1]: the runs index. ARGV: run key prefix, lower score ('-inf' or ms), upper score ('+inf' or ms).
-- Returns { status, count, status, count, ... }.
local counts, out = {}, {}
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[2], ARGV[3])
for _, id in ipairs(ids) do
  local s = redis.call('HGET', ARGV[1] .. id, 'status')
  if s then counts[s] = (counts[s] or 0) + 1 end
end
for s, n in pairs(counts) do
  out[#out + 1] = s
  out[#out + 1] = n
end
return out
