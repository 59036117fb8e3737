#pragma once

// Lua scripts that make our writes idempotent, so a command whose reply was lost can be
// sent again after a reconnect without duplicating or resurrecting anything. Each runs as
// one step in Redis: a PUBLISH in a script goes out only after the write it announces, and
// a TTL is set in the same step as the write (a key is never left without it).
//
// Every script that writes a job takes the job's keys first, as RedisKeys::ofJob lists them:
// KEYS[1] hash, KEYS[2] log, KEYS[3] output, KEYS[4] description, KEYS[5] steps hash; the
// jobs list, when needed, comes sixth. Every script that changes a job also PUBLISHes what
// changed ("record", "log" or "removed") on the job's change channel (RedisKeys::
// changeChannel), its last ARGV: other drays' live events wake on it.
namespace dray::plugins::storage::redis {

/// Defines refresh_ttl(): with ARGV[n] > 0 (DRAY_KEY_TTL, seconds) every key of the job gets
/// that expiry again. Called after every write, so a job's keys all live until TTL after its
/// last write, together.
// clang-format off
#define DRAY_REDIS_REFRESH_TTL(n)                                                   \
  "local function refresh_ttl()\n"                                                  \
  "  local ttl = tonumber(ARGV[" #n "])\n"                                          \
  "  if ttl > 0 then for i = 1, 5 do redis.call('EXPIRE', KEYS[i], ttl) end end\n" \
  "end\n"
// clang-format on

/// The job's keys. ARGV[1] the log length this batch expects to find (-1: unknown),
/// ARGV[2] the number of lines, ARGV[3] their sizes ("3,0,12"), ARGV[4] the lines back to
/// back, ARGV[5] the TTL. Returns the new length, or -1 if the job is gone. If the list
/// already holds the batch (a retry after a lost reply), nothing is added.
inline constexpr const char* kAppendLogScript = DRAY_REDIS_REFRESH_TTL(5) R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local before = tonumber(ARGV[1])
local length = redis.call('LLEN', KEYS[2])
if before < 0 or length ~= before + tonumber(ARGV[2]) then
  local lines, text, at = {}, ARGV[4], 1
  for size in string.gmatch(ARGV[3], '%d+') do
    local stop = at + tonumber(size)
    lines[#lines + 1] = string.sub(text, at, stop - 1)
    at = stop
  end
  length = redis.call('RPUSH', KEYS[2], unpack(lines))
end
refresh_ttl()
redis.call('PUBLISH', ARGV[6], 'log')
return length
)lua";

/// The job's keys, KEYS[6] the jobs list. ARGV[1] which hash to set (1: the job's, 5: its
/// steps), ARGV[2] field, ARGV[3] value, ARGV[4] channel to PUBLISH ARGV[5] on after the
/// write ("" for none), ARGV[6] the TTL, ARGV[7] an id to remove from the jobs list ("" for
/// none; DRAY_REMOVE_DONE), ARGV[8] the change channel. Never recreates a deleted job.
/// Returns 1, or 0 if it is gone.
inline constexpr const char* kSetFieldScript = DRAY_REDIS_REFRESH_TTL(6) R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[tonumber(ARGV[1])], ARGV[2], ARGV[3])
if ARGV[7] ~= '' then redis.call('LREM', KEYS[6], 0, ARGV[7]) end
refresh_ttl()
if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[4], ARGV[5]) end
redis.call('PUBLISH', ARGV[8], 'record')
return 1
)lua";

/// The job's keys. ARGV[1] the output's bytes, ARGV[2] the TTL, ARGV[3] the change channel.
/// Never recreates a deleted job. Returns 1, or 0 if it is gone.
inline constexpr const char* kSetOutputScript = DRAY_REDIS_REFRESH_TTL(2) R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SET', KEYS[3], ARGV[1])
refresh_ttl()
redis.call('PUBLISH', ARGV[3], 'record')
return 1
)lua";

/// KEYS[1] the jobs list, ARGV[1] the key prefix. With a TTL, ids whose job expired stay in
/// the list (a list has no per-element expiry): this drops them, rewriting the list once
/// when any is gone, and returns the ids left, oldest first.
inline constexpr const char* kListLiveJobsScript = R"lua(
local kept, gone = {}, false
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if redis.call('EXISTS', ARGV[1] .. ':' .. id) == 1 then kept[#kept + 1] = id else gone = true end
end
if gone then
  redis.call('DEL', KEYS[1])
  for i = 1, #kept, 1000 do redis.call('RPUSH', KEYS[1], unpack(kept, i, math.min(i + 999, #kept))) end
end
return kept
)lua";

/// Refuses the script (returns -2) once Redis's clock passed ARGV[n] (milliseconds). A
/// command sent to a paused or slow Redis still runs when Redis resumes, long after dray
/// answered 503; with this guard it then does nothing, so a 503 stays true.
#define DRAY_REDIS_DEADLINE_GUARD(n)                                  \
  "if redis.replicate_commands then redis.replicate_commands() end\n" \
  "local now = redis.call('TIME')\n"                                  \
  "if tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) > tonumber(ARGV[" #n "]) then return -2 end\n"

/// The job's keys, KEYS[6] the jobs list, KEYS[7] the nodes' queue. ARGV: id, totalSteps,
/// completedSteps, status, description, owner, name, createdAt, creator, deadline (Redis
/// time, ms), a nonce of this create call, the TTL, the change channel, then one JSON record
/// per step. A job without an owner goes into the queue in the same script: it is never
/// stored without its entry. Publishes the fork's fields it sets
/// (`<id>:status`, `<id>:completedSteps`, `<id>:createdAt`). Returns 1 when the job was made
/// (also when our own earlier try, whose reply was lost, made it: same nonce), 0 when
/// another create made that id, -2 past the deadline.
inline constexpr const char* kCreateJobScript = DRAY_REDIS_REFRESH_TTL(12) R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('HGET', KEYS[1], 'createNonce') == ARGV[11] then return 1 end
  return 0
end
)lua" DRAY_REDIS_DEADLINE_GUARD(10) R"lua(
redis.call('HSET', KEYS[1], 'totalSteps', ARGV[2], 'completedSteps', ARGV[3], 'status', ARGV[4],
           'owner', ARGV[6], 'name', ARGV[7], 'createdAt', ARGV[8], 'creator', ARGV[9], 'createNonce', ARGV[11])
redis.call('SET', KEYS[4], ARGV[5])
for i = 14, #ARGV do redis.call('HSET', KEYS[5], tostring(i - 14), ARGV[i]) end
redis.call('RPUSH', KEYS[6], ARGV[1])
if ARGV[6] == '' then redis.call('XADD', KEYS[7], '*', 'job', ARGV[1]) end
refresh_ttl()
redis.call('PUBLISH', ARGV[1] .. ':status', ARGV[4])
redis.call('PUBLISH', ARGV[1] .. ':completedSteps', ARGV[3])
redis.call('PUBLISH', ARGV[1] .. ':createdAt', ARGV[8])
redis.call('PUBLISH', ARGV[13], 'record')
return 1
)lua";

/// The job's keys, KEYS[6] the jobs list. ARGV[1] id, ARGV[2] deadline (Redis time, ms),
/// ARGV[3] the change channel. Returns 1 if anything was removed, 0 if nothing existed, -2
/// past the deadline.
inline constexpr const char* kDeleteJobScript = DRAY_REDIS_DEADLINE_GUARD(2) R"lua(
local removed = redis.call('LREM', KEYS[6], 0, ARGV[1])
removed = removed + redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
if removed > 0 then
  redis.call('PUBLISH', ARGV[3], 'removed')
  return 1
end
return 0
)lua";

/// Node leases: KEYS[1] the node's key, whose value is "<holder>\n<info>". ARGV[1] holder,
/// ARGV[2] info, ARGV[3] time to live (ms). Acquire takes a free lease (or one the holder
/// has already); renew only extends the holder's own. Both return 1 when the holder holds it.
inline constexpr const char* kAcquireNodeScript = R"lua(
local held = redis.call('GET', KEYS[1])
if held and string.sub(held, 1, #ARGV[1] + 1) ~= ARGV[1] .. '\n' then return 0 end
redis.call('SET', KEYS[1], ARGV[1] .. '\n' .. ARGV[2], 'PX', ARGV[3])
return 1
)lua";
inline constexpr const char* kRenewNodeScript = R"lua(
local held = redis.call('GET', KEYS[1])
if not held or string.sub(held, 1, #ARGV[1] + 1) ~= ARGV[1] .. '\n' then return 0 end
redis.call('SET', KEYS[1], ARGV[1] .. '\n' .. ARGV[2], 'PX', ARGV[3])
return 1
)lua";
/// KEYS[1] the node's key, ARGV[1] holder: removed only if the holder holds it.
inline constexpr const char* kReleaseNodeScript = R"lua(
local held = redis.call('GET', KEYS[1])
if held and string.sub(held, 1, #ARGV[1] + 1) == ARGV[1] .. '\n' then redis.call('DEL', KEYS[1]) end
return 1
)lua";

/// KEYS[1] a job's hash, ARGV[1] a node: makes the node the job's owner unless another
/// node is (1: it owns the job now, 0: another does, or the job is gone).
inline constexpr const char* kReserveJobScript = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local owner = redis.call('HGET', KEYS[1], 'owner')
if not owner or owner == '' then
  redis.call('HSET', KEYS[1], 'owner', ARGV[1])
  return 1
end
if owner == ARGV[1] then return 1 end
return 0
)lua";

/// KEYS[1] a job's hash, ARGV[1] the lost node, ARGV[2] the node taking its job over.
inline constexpr const char* kTransferJobScript = R"lua(
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'owner', ARGV[2])
return 1
)lua";

/// KEYS[1] the queue stream, ARGV[1] its group, ARGV[2] a consumer: deleted only when it has
/// no pending entries (-1 otherwise).
inline constexpr const char* kForgetConsumerScript = R"lua(
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #pending > 0 then return -1 end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
)lua";

/// KEYS[1] the queue stream, ARGV[1] its group: entries not delivered yet (the group's lag,
/// or every entry after the last delivered one when Redis cannot tell the lag).
inline constexpr const char* kQueueDepthScript = R"lua(
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
for _, group in ipairs(groups) do
  local fields = {}
  for i = 1, #group, 2 do fields[group[i]] = group[i + 1] end
  if fields['name'] == ARGV[1] then
    if type(fields['lag']) == 'number' then return fields['lag'] end
    return #redis.call('XRANGE', KEYS[1], '(' .. fields['last-delivered-id'], '+')
  end
end
return redis.call('XLEN', KEYS[1])
)lua";

}  // namespace dray::plugins::storage::redis
