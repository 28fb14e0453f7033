-- The fleet count of one (playbook, namespace): src/guards/fleet-correlator.ts says what it decides and why. Defines
-- `correlate(KEYS, ARGV)`, which ingest-firing.lua runs once per fleet group of a notification, before it records the
-- notification's alerts, so a notification whose count opens or joins no fleet costs one script, not two.
--
-- KEYS: members zset (service -> last time down, ms), open marker, singles hash (`<episode> <playbook>` -> JSON
--   {service, run}), absorbed hash.
-- ARGV: now (ms), window (ms), min, the run id, episode id and opening time (RFC 3339) of the fleet this call opens if
--   it crosses the threshold, the run key prefix, the final run statuses (comma-separated), absorbed TTL (s), the episode
--   key prefix, then per alert: service, episode id, the number n of its own runs, then n times: playbook, run id.
-- Returns {kind, fleet JSON or '', singles JSON, earlier JSON}: kind 'below' | 'opened' | 'joined';
--   earlier maps the episodes a fleet took before this call to that fleet.
local function correlate(KEYS, ARGV)
  local now, window, min = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
  local runPrefix, finals, keep, episodePrefix = ARGV[7], ',' .. ARGV[8] .. ',', tonumber(ARGV[9]), ARGV[10]
  local earlier, fresh = {}, {}
  local anyEarlier = false
  local i = 11
  while i <= #ARGV do
    local n = tonumber(ARGV[i + 2])
    local taken = redis.call('HGET', KEYS[4], ARGV[i + 1])
    if taken then
      earlier[ARGV[i + 1]] = cjson.decode(taken)
      anyEarlier = true
    else
      fresh[#fresh + 1] = { service = ARGV[i], episode = ARGV[i + 1], first = i + 3, runs = n }
    end
    i = i + 3 + 2 * n
  end
  local earlierJson = '{}'
  if anyEarlier then earlierJson = cjson.encode(earlier) end
  if #fresh == 0 then return {'below', '', '[]', earlierJson} end

  local function absorb(fleetJson)
    local fleet = cjson.decode(fleetJson)
    local member = {}
    for _, s in ipairs(fleet.services) do member[s] = true end
    for _, f in ipairs(fresh) do
      if member[f.service] then redis.call('HSET', KEYS[4], f.episode, fleetJson) end
    end
    redis.call('EXPIRE', KEYS[4], keep)
  end

  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  for _, f in ipairs(fresh) do redis.call('ZADD', KEYS[1], now, f.service) end
  redis.call('PEXPIRE', KEYS[1], window)

  local open = redis.call('GET', KEYS[2])
  if open then
    local fleet = cjson.decode(open)
    local status = redis.call('HGET', runPrefix .. fleet.runId, 'status')
    -- A fleet run that escalated or failed (an infrastructure cause, a restart that did not help) keeps taking the
    -- namespace's services until its window passes: a person has been paged with the cluster's state, and a service
    -- that goes down a moment later must not be restarted on its own against that cause.
    local handedOver = status == 'escalated' or status == 'failed'
    local ended = status and string.find(finals, ',' .. status .. ',', 1, true) and not handedOver
    if now - tonumber(fleet.openedAtMs) >= window or ended then
      -- Closed: what it handled no longer counts; the new alerts count afresh (they may open the next fleet).
      redis.call('DEL', KEYS[2])
      for _, s in ipairs(fleet.services) do
        local again = false
        for _, f in ipairs(fresh) do if f.service == s then again = true end end
        if not again then redis.call('ZREM', KEYS[1], s) end
      end
      open = false
    end
  end
  if open then
    local fleet = cjson.decode(open)
    local known, added = {}, false
    for _, s in ipairs(fleet.services) do known[s] = true end
    for _, f in ipairs(fresh) do
      if not known[f.service] then
        fleet.services[#fleet.services + 1] = f.service
        known[f.service] = true
        added = true
      end
    end
    if added then
      open = cjson.encode(fleet)
      redis.call('SET', KEYS[2], open, 'KEEPTTL')
      redis.call('HSET', runPrefix .. fleet.runId, 'fleetServices', cjson.encode(fleet.services))
    end
    absorb(open)
    return {'joined', open, '[]', earlierJson}
  end

  if redis.call('ZCARD', KEYS[1]) >= min then
    local fleet = { runId = ARGV[4], episodeId = ARGV[5], openedAt = ARGV[6], openedAtMs = now }
    fleet.services = redis.call('ZRANGE', KEYS[1], 0, -1)
    local json = cjson.encode(fleet)
    redis.call('SET', KEYS[2], json, 'PX', window)
    absorb(json)
    local singles = redis.call('HGETALL', KEYS[3])
    redis.call('DEL', KEYS[3])
    local pairs, byService = {}, {}
    for i = 2, #singles, 2 do
      local entry = cjson.decode(singles[i])
      local run = cjson.decode(entry.run)
      local stored = redis.call('HGET', episodePrefix .. run.episodeId, 'run:' .. run.playbook)
      if stored then run.runId = stored end
      local p = byService[entry.service]
      if not p then
        p = { service = entry.service, runs = {} }
        byService[entry.service] = p
        pairs[#pairs + 1] = p
      end
      p.runs[#p.runs + 1] = cjson.encode(run)
    end
    if #pairs == 0 then return {'opened', json, '[]', earlierJson} end
    return {'opened', json, cjson.encode(pairs), earlierJson}
  end

  -- One entry per (episode, playbook): a repeat finds its entry and adds nothing (the opener resolves the stored id).
  for _, f in ipairs(fresh) do
    for r = 0, f.runs - 1 do
      local playbook = ARGV[f.first + 2 * r]
      local field = f.episode .. ' ' .. playbook
      if redis.call('HEXISTS', KEYS[3], field) == 0 then
        local run = cjson.encode({ runId = ARGV[f.first + 2 * r + 1], playbook = playbook, episodeId = f.episode })
        redis.call('HSET', KEYS[3], field, cjson.encode({ service = f.service, run = run }))
      end
    end
  end
  redis.call('PEXPIRE', KEYS[3], window)
  return {'below', '', '[]', earlierJson}
end
