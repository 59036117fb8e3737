#pragma once

// Lua scripts that make our writes idempotent, so a command whose reply was lost can be
// sent again after a reconnect without duplicating or resurrecting anything.
namespace dray::plugins::storage::redis {

/// KEYS[1] job hash, KEYS[2] log list. ARGV[1] the log length this batch expects to find
/// (-1: unknown), ARGV[2] the number of lines, ARGV[3] their sizes ("3,0,12"), ARGV[4] the
/// lines back to back. Returns the new length, or -1 if the job is gone. If the list
/// already holds the batch (a retry after a lost reply), nothing is added.
inline constexpr const char* kAppendLogScript = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local before = tonumber(ARGV[1])
local length = redis.call('LLEN', KEYS[2])
if before >= 0 and length == before + tonumber(ARGV[2]) then return length end
local lines, text, at = {}, ARGV[4], 1
for size in string.gmatch(ARGV[3], '%d+') do
  local stop = at + tonumber(size)
  lines[#lines + 1] = string.sub(text, at, stop - 1)
  at = stop
end
return redis.call('RPUSH', KEYS[2], unpack(lines))
)lua";

/// KEYS[1] job hash (must exist), KEYS[2] the hash to set (the job hash or its steps hash).
/// ARGV: field, value pairs. Never recreates a deleted job.
inline constexpr const char* kSetFieldScript = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], unpack(ARGV))
return 1
)lua";

/// Refuses the script (returns -2) once Redis's clock passed ARGV[n] (milliseconds). A
/// command sent to a paused or slow Redis still runs when Redis resumes, long after dray
/// answered 503; with this guard it then does nothing, so a 503 stays true.
#define DRAY_REDIS_DEADLINE_GUARD(n)                                  \
  "if redis.replicate_commands then redis.replicate_commands() end\n" \
  "local now = redis.call('TIME')\n"                                  \
  "if tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) > tonumber(ARGV[" #n "]) then return -2 end\n"

/// KEYS[1] the jobs list, KEYS[2] job hash, KEYS[3] description, KEYS[4] steps hash.
/// ARGV: id, totalSteps, completedSteps, status, description, owner, name, createdAt, creator,
/// deadline (Redis time, ms), a nonce of this create call, then one JSON record per step.
/// Returns 1 when the job was made (also when our own earlier try, whose reply was lost,
/// made it: same nonce), 0 when another create made that id, -2 past the deadline.
inline constexpr const char* kCreateJobScript = R"lua(
if redis.call('EXISTS', KEYS[2]) == 1 then
  if redis.call('HGET', KEYS[2], 'createNonce') == ARGV[11] then return 1 end
  return 0
end
)lua" DRAY_REDIS_DEADLINE_GUARD(10) R"lua(
redis.call('HSET', KEYS[2], 'totalSteps', ARGV[2], 'completedSteps', ARGV[3], 'status', ARGV[4],
           'owner', ARGV[6], 'name', ARGV[7], 'createdAt', ARGV[8], 'creator', ARGV[9], 'createNonce', ARGV[11])
redis.call('SET', KEYS[3], ARGV[5])
for i = 12, #ARGV do redis.call('HSET', KEYS[4], tostring(i - 12), ARGV[i]) end
redis.call('RPUSH', KEYS[1], ARGV[1])
return 1
)lua";

/// KEYS[1] the jobs list, KEYS[2..] the job's keys. ARGV[1] id, ARGV[2] deadline (Redis
/// time, ms). Returns 1 if anything was removed, 0 if nothing existed, -2 past the deadline.
inline constexpr const char* kDeleteJobScript = DRAY_REDIS_DEADLINE_GUARD(2) R"lua(
local removed = redis.call('LREM', KEYS[1], 0, ARGV[1])
local keys = {}
for i = 2, #KEYS do keys[#keys + 1] = KEYS[i] end
removed = removed + redis.call('DEL', unpack(keys))
if removed > 0 then return 1 end
return 0
)lua";

}  // namespace dray::plugins::storage::redis
