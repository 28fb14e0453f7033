-- Records the firing alerts of one Alertmanager notification in one round trip (RunStore.ingestFiring). Atomic: a
-- crash or a dropped connection leaves all of the notification's records or none; the caller queues the jobs of the
-- runs it returns only after this script returned, and answers 202 only after that.
--
-- Per alert, the episode hash is created on first sight (fingerprint, startsAt, labels, firstSeen, status), and every
-- delivery bumps `received` and sets `lastSeen`: that counter is how repeats are kept. For each matched playbook the
-- run of (episode, playbook) is claimed: a new run gets its record, its index entries and a `started` decision; a
-- repeat only points at the existing run. Only the first `repeatsRecorded` repeats of an episode are also stored as
-- `deduplicated` decisions (the HA twin, a retry, a repeat_interval re-send, for the run's story); later repeats do not
-- grow Redis. An alert no playbook takes gets an `unmatched` decision the same way.
--
-- Each run created is announced on the run-events channel (`<run id> queued`, src/store/run-events.ts) from here, in
-- the same call: the console's live views learn of it without another round trip per webhook.
--
-- Keys are passed in ARGV (built by Keys in TypeScript) because a run's keys are known only here, once its id is. On
-- Redis Cluster every key of an installation, the fleet counts' included, carries its hash-tagged prefix, so they all
-- live in the slot of the one declared key (the runs index; see RunStore's constructor).
--
-- ARGV: now (RFC 3339), now (ms), episode TTL (s), decisions kept per list, repeats recorded, runs index key, queued
--   index key, run key prefix, decisions key suffix, BullMQ job key prefix, run-events channel, episode key prefix,
--   episode decisions key suffix, the number m of fleet open-marker keys to read back, those m keys, the number g of
--   fleet counts to make first, then per count: its four keys, its argument count a and its a arguments
--   (src/store/lua/fleet-correlate.lua, whose `correlate` function is defined ahead of this script), then per alert:
--   episode id, fingerprint, startsAt, labels JSON, alert JSON, playbook count n, unmatched decision JSON (used when
--   n = 0), then n times: playbook name, new run id, run record JSON without its alert, started decision JSON. The
--   episode's keys and its `run:<playbook>` fields are built here from the prefixes: a notification sends each id once.
--   A new run's record is that JSON with the alert's added here: the alert
--   is serialized once per alert, and a repeat (most deliveries) never pays for a record it does not store.
--   A known claim (a repeat of an episode this receiver saw stored, src/alerts/known-episodes.ts) sends '' for its
--   labels, its alert and, per playbook, the record and the decision, with the stored run's id: nothing is built or
--   sent that only a new run needs. If any known claim's episode no longer has exactly the runs it names (expired,
--   lost), nothing at all is written and the script returns -1 followed by those episodes' ids: the caller claims the
--   notification again with candidates for them.
--   The claims are built on the fleet counts taking none of their alerts, which is what almost every notification
--   finds. If a count opens or joins a fleet, or finds an episode a fleet took before, the counts stand (they are the
--   count) but no claim is written: the script returns -2 followed by the counts' replies, four values each, and the
--   caller records the claims those verdicts call for in a second call, without counts.
-- Returns per (alert, playbook), in order: created (1|0), run id, enqueue (1|0: the run is queued and has no job,
--   i.e. new, or an earlier attempt stored it but failed before its job was added); then the m open markers' values
--   ('' when none), read after the runs were stored: a fleet opened before this call, whose opener could not see the
--   runs stored here, is found by this webhook; one opened after it finds them itself (src/guards/fleet-correlator.ts).
local now, nowMs, ttl, kept, recorded = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local runsKey, queuedKey, runPrefix, decisionsSuffix, jobPrefix, events = ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11]
local episodePrefix, episodeDecisionsSuffix = ARGV[12], ARGV[13]

local function push(list, json, expire)
  redis.call('RPUSH', list, json)
  redis.call('LTRIM', list, -kept, -1)
  if expire then redis.call('EXPIRE', list, ttl) end
end

local openCount = tonumber(ARGV[14])
local countCount = tonumber(ARGV[15 + openCount])
local claimsAt = 16 + openCount
for _ = 1, countCount do claimsAt = claimsAt + 5 + tonumber(ARGV[claimsAt + 4]) end

local gone = {}
local i = claimsAt
while i <= #ARGV do
  local episodeId, n = ARGV[i], tonumber(ARGV[i + 5])
  i = i + 7
  if n > 0 and ARGV[i + 2] == '' then
    local ep = episodePrefix .. episodeId
    for r = 0, n - 1 do
      if redis.call('HGET', ep, 'run:' .. ARGV[i + 4 * r]) ~= ARGV[i + 4 * r + 1] then
        gone[#gone + 1] = episodeId
        break
      end
    end
  end
  i = i + 4 * n
end
if #gone > 0 then return { -1, unpack(gone) } end

-- The fleet counts, after the check above (which writes nothing) and before any claim is written.
local verdicts, takes = { -2 }, false
i = 16 + openCount
for _ = 1, countCount do
  local argc = tonumber(ARGV[i + 4])
  local args = {}
  for a = 1, argc do args[a] = ARGV[i + 4 + a] end
  local v = correlate({ ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3] }, args)
  if v[1] ~= 'below' or v[4] ~= '{}' then takes = true end
  for _, x in ipairs(v) do verdicts[#verdicts + 1] = x end
  i = i + 5 + argc
end
if takes then return verdicts end

local out = {}
i = claimsAt
while i <= #ARGV do
  local episodeId, fp, startsAt, labels, alert, n, unmatched = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], tonumber(ARGV[i + 5]), ARGV[i + 6]
  local ep = episodePrefix .. episodeId
  local epDecisions = ep .. episodeDecisionsSuffix
  i = i + 7
  if redis.call('EXISTS', ep) == 0 then
    redis.call('HSET', ep, 'fingerprint', fp, 'startsAt', startsAt, 'labels', labels, 'firstSeen', now, 'status', 'firing')
  end
  redis.call('HSET', ep, 'lastSeen', now)
  local received = redis.call('HINCRBY', ep, 'received', 1)
  redis.call('EXPIRE', ep, ttl)
  local record = received <= recorded + 1
  if n == 0 and record then push(epDecisions, unmatched, true) end
  for _ = 1, n do
    local playbook, runId, runRecord, started = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
    local field = 'run:' .. playbook
    i = i + 4
    local existing = redis.call('HGET', ep, field)
    if existing then
      local runKey = runPrefix .. existing
      local enqueue = 0
      if redis.call('HGET', runKey, 'status') == 'queued' and redis.call('EXISTS', jobPrefix .. existing) == 0 then enqueue = 1 end
      if record then
        local d = cjson.encode({ at = now, reason = 'deduplicated', playbook = playbook, runId = existing, episodeId = episodeId, message = 'repeat of episode ' .. episodeId .. '; run ' .. existing .. ' already handles it' })
        push(runKey .. decisionsSuffix, d, false)
        push(epDecisions, d, true)
      end
      out[#out + 1] = 0
      out[#out + 1] = existing
      out[#out + 1] = enqueue
    else
      redis.call('HSET', ep, field, runId)
      redis.call('HSET', runPrefix .. runId, 'record', string.sub(runRecord, 1, -2) .. ',"alert":' .. alert .. '}', 'status', 'queued', 'updatedAt', now)
      redis.call('ZADD', runsKey, nowMs, runId)
      redis.call('ZADD', queuedKey, nowMs, runId)
      push(runPrefix .. runId .. decisionsSuffix, started, false)
      push(epDecisions, started, true)
      redis.call('PUBLISH', events, runId .. ' queued')
      out[#out + 1] = 1
      out[#out + 1] = runId
      out[#out + 1] = 1
    end
  end
end
for k = 15, 14 + openCount do
  out[#out + 1] = redis.call('GET', ARGV[k]) or ''
end
return out
