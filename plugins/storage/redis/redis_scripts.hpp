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

/// KEYS[1] the jobs list, KEYS[2] job hash, KEYS[3] description, KEYS[4] steps hash.
/// ARGV: id, totalSteps, completedSteps, status, description, owner, name, createdAt, creator, then
/// one JSON record per step. Returns 0 if the job already exists.
inline constexpr const char* kCreateJobScript = R"lua(
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[2], 'totalSteps', ARGV[2], 'completedSteps', ARGV[3], 'status', ARGV[4],
           'owner', ARGV[6], 'name', ARGV[7], 'createdAt', ARGV[8], 'creator', ARGV[9])
redis.call('SET', KEYS[3], ARGV[5])
for i = 10, #ARGV do redis.call('HSET', KEYS[4], tostring(i - 10), ARGV[i]) end
redis.call('RPUSH', KEYS[1], ARGV[1])
return 1
)lua";

}  // namespace dray::plugins::storage::redis
