-- One page of the run history, newest first, filtered in Redis (RunStore.listRuns): only the ids that match travel
-- back, so a filter that matches few of 10,000 runs costs one round trip, not thousands of hash reads.
--
-- Runs in the same millisecond share a score; the cursor is (score, id) and members of one score come in descending
-- id order, so a page boundary inside a millisecond neither repeats nor skips a run.
--
-- KEYS[1]: the runs index. ARGV: run key prefix, upper score ('+inf' or ms, inclusive), upper id ('' = none: take
-- the whole upper score), lower score ('-inf' or ms), limit, most entries to look at, status ('' = any), playbook
-- ('' = any), target ('' = any; namespace/kind/name, namespace/name or name).
-- Returns: { ids..., '', next score, next id } where next is '' when the history below was fully looked at; when the
-- scan stopped at its bound before filling the page, next points after the last entry looked at.
local index, prefix = KEYS[1], ARGV[1]
local upper, upperId, lower = ARGV[2], ARGV[3], ARGV[4]
local limit, cap = tonumber(ARGV[5]), tonumber(ARGV[6])
local status, playbook, target = ARGV[7], ARGV[8], ARGV[9]
local upperNum = tonumber(upper)

local function targetMatches(t)
  if type(t) ~= 'table' or type(t.name) ~= 'string' then return false end
  if target == t.name then return true end
  if type(t.namespace) == 'string' then
    return target == (t.namespace .. '/' .. t.name) or target == (t.namespace .. '/' .. tostring(t.kind) .. '/' .. t.name)
  end
  return target == (tostring(t.kind) .. '/' .. t.name)
end

local out, scanned, offset, batch = {}, 0, 0, 500
while true do
  local rows = redis.call('ZREVRANGEBYSCORE', index, upper, lower, 'WITHSCORES', 'LIMIT', offset, batch)
  offset = offset + batch
  for j = 1, #rows, 2 do
    local id, score = rows[j], rows[j + 1]
    if not (upperId ~= '' and tonumber(score) == upperNum and id >= upperId) then
      scanned = scanned + 1
      local key = prefix .. id
      local ok = true
      if status ~= '' and redis.call('HGET', key, 'status') ~= status then ok = false end
      if ok and (playbook ~= '' or target ~= '') then
        local raw = redis.call('HGET', key, 'record')
        if not raw then
          ok = false
        else
          local record = cjson.decode(raw)
          if playbook ~= '' and record.playbook ~= playbook then ok = false end
          if ok and target ~= '' and not targetMatches(record.target) then ok = false end
        end
      end
      if ok then out[#out + 1] = id end
      if #out >= limit or scanned >= cap then
        out[#out + 1] = ''
        out[#out + 1] = score
        out[#out + 1] = id
        return out
      end
    end
  end
  if #rows < batch * 2 then break end
end
out[#out + 1] = ''
out[#out + 1] = ''
out[#out + 1] = ''
return out
