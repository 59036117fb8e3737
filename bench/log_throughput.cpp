// Log lines/s into storage for one step printing 10^6 lines, through the same path the core
// uses (chunks -> JobLogWriter -> Storage::appendLog), against the original Dray's way of
// writing logs (one RPUSH round trip per line), on one redis-server. The Redis storage runs
// twice: with flush-ms 0 (group commit, the default since issue 20) and with flush-ms 50 (the
// old timer), so the "log rate unchanged" is measured in the same run. Rounds
// interleave the four paths; after every round each path's log is read back and every line
// is checked (count, content, order), so a path that loses lines fails the run instead of
// looking fast.
//
//   BENCH_LOG_ROUNDS (default 3), BENCH_LOG_LINES (default 1000000)
// Exit: 0, 1 if the goal (Redis path, flush-ms 0, >= 10x the baseline, p50 of the rounds) is missed,
// 2 if any round lost, added or changed a line.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Process.h>
#include <Poco/Redis/Array.h>
#include <Poco/Redis/Client.h>
#include <Poco/Redis/Command.h>
#include <spdlog/spdlog.h>

#include "bench/stats.hpp"
#include "core/job_log.hpp"
#include "core/spdlog_logger.hpp"
#include "plugins/storage/memory/memory_storage.hpp"
#include "plugins/storage/redis/redis_storage.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace dray;

constexpr std::size_t kChunk = 32 * 1024;  // about what one attach frame carries
constexpr const char* kBaselineKey = "baseline:log";

int envInt(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::atoi(value) : fallback;
}

std::string lineText(int i) { return "line " + std::to_string(i); }

// The step's output as the runtime hands it on: "line N\n" text in fixed-size chunks.
std::vector<std::string> makeChunks(int lines) {
  std::string all;
  for (int i = 0; i < lines; ++i) all += lineText(i) + "\n";
  std::vector<std::string> chunks;
  for (std::size_t at = 0; at < all.size(); at += kChunk) chunks.push_back(all.substr(at, kChunk));
  return chunks;
}

double secondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

void fail(const std::string& path, const std::string& what) { throw std::runtime_error(path + ": " + what); }

// Every line, in order, and nothing after the last one.
void checkDrayLog(sdk::Storage& storage, const std::string& id, int lines) {
  std::size_t at = 0;
  for (;;) {
    std::vector<std::string> page = storage.readLog(id, at, 100'000);
    if (page.empty()) break;
    for (const auto& line : page) {
      if (at >= static_cast<std::size_t>(lines)) fail(id, "extra line " + std::to_string(at) + ": " + line);
      if (line != lineText(static_cast<int>(at))) fail(id, "line " + std::to_string(at) + " is '" + line + "'");
      ++at;
    }
  }
  if (at != static_cast<std::size_t>(lines))
    fail(id, "read back " + std::to_string(at) + " lines, wrote " + std::to_string(lines));
}

double throughDray(sdk::Storage& storage, const std::string& id, const std::vector<std::string>& chunks, int lines) {
  sdk::JobRecord record;
  record.id = id;
  record.total_steps = 1;
  storage.createJob(record);
  auto start = Clock::now();
  core::JobLogBudget budget{SIZE_MAX};
  core::JobLogWriter writer(storage, id, budget);
  for (const auto& chunk : chunks) writer.onStdout(chunk);
  writer.finish();
  storage.flush();
  double seconds = secondsSince(start);
  checkDrayLog(storage, id, lines);
  storage.deleteJob(id);
  return seconds;
}

void waitForPort(int port) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    try {
      Poco::Net::StreamSocket probe(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
      return;
    } catch (const Poco::Exception&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }
  throw std::runtime_error("redis-server did not start");
}

// The original: one RPUSH round trip per line; each reply (the list's new length) is checked.
double onePushPerLine(Poco::Redis::Client& client, int lines) {
  client.execute<Poco::Int64>(Poco::Redis::Command::del(kBaselineKey));
  auto start = Clock::now();
  for (int i = 0; i < lines; ++i) {
    Poco::Redis::Command push("RPUSH");
    push << kBaselineKey << lineText(i);
    if (client.execute<Poco::Int64>(push) != i + 1) fail("baseline", "RPUSH of line " + std::to_string(i) + " failed");
  }
  double seconds = secondsSince(start);
  const int page = 10'000;
  int at = 0;
  for (;; at += page) {
    auto items = client.execute<Poco::Redis::Array>(Poco::Redis::Command::lrange(kBaselineKey, at, at + page - 1));
    if (items.isNull() || items.size() == 0) break;
    for (std::size_t k = 0; k < items.size(); ++k) {
      auto item = items.get<Poco::Redis::BulkString>(k);
      const int index = at + static_cast<int>(k);
      if (item.isNull() || item.value() != lineText(index)) fail("baseline", "line " + std::to_string(index));
    }
    if (static_cast<int>(items.size()) < page) {
      at += static_cast<int>(items.size());
      break;
    }
  }
  if (at != lines) fail("baseline", "read back " + std::to_string(at) + " lines");
  client.execute<Poco::Int64>(Poco::Redis::Command::del(kBaselineKey));
  return seconds;
}

void printRow(const char* path, const std::vector<double>& seconds, const std::vector<double>& baseline, int lines) {
  const bench::Summary s = bench::summarize(seconds);
  const bench::Summary r = bench::summarize(bench::ratios(baseline, seconds));
  std::printf("%-40s %8.3f %8.3f %6.0f%% %8.3f..%-8.3f %11.0f %8.2f (%.2f..%.2f)\n", path, s.p50, s.p90,
              100 * s.spread(), s.min, s.max, lines / s.p50, r.p50, r.p10, r.p90);
}

}  // namespace

int main() {
  const int rounds = envInt("BENCH_LOG_ROUNDS", 3);
  const int lines = envInt("BENCH_LOG_LINES", 1'000'000);
  const int port = Poco::Net::ServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0)).address().port();
  Poco::ProcessHandle server =
      Poco::Process::launch("redis-server", {"--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "",
                                             "--appendonly", "no", "--logfile", "/dev/null"});
  int exit_code = 0;
  try {
    waitForPort(port);
    auto chunks = makeChunks(lines);
    core::SpdlogLogger logger(spdlog::default_logger());
    plugins::storage::redis::RedisAddress address;
    address.port = port;
    plugins::storage::redis::RedisStorageOptions group_commit;  // flush-ms 0
    group_commit.writes.flush_interval = std::chrono::milliseconds(0);
    group_commit.jobs_key = "after";
    plugins::storage::redis::RedisStorageOptions timer = group_commit;  // flush-ms 50, as before issue 20
    timer.writes.flush_interval = std::chrono::milliseconds(50);
    timer.jobs_key = "before";
    plugins::storage::redis::RedisStorage redis_storage(address, group_commit, logger);
    plugins::storage::redis::RedisStorage redis_timer(address, timer, logger);
    plugins::storage::memory::MemoryStorage memory;
    Poco::Redis::Client client("127.0.0.1", port);

    std::vector<double> baseline, batched, batched_timer, in_memory;
    for (int round = 1; round <= rounds; ++round) {
      baseline.push_back(onePushPerLine(client, lines));
      // The two Redis paths swap places every round: neither always follows the baseline.
      if (round % 2 == 1) {
        batched.push_back(throughDray(redis_storage, "REDIS-" + std::to_string(round), chunks, lines));
        batched_timer.push_back(throughDray(redis_timer, "REDIS50-" + std::to_string(round), chunks, lines));
      } else {
        batched_timer.push_back(throughDray(redis_timer, "REDIS50-" + std::to_string(round), chunks, lines));
        batched.push_back(throughDray(redis_storage, "REDIS-" + std::to_string(round), chunks, lines));
      }
      in_memory.push_back(throughDray(memory, "MEMORY-" + std::to_string(round), chunks, lines));
    }

    std::printf(
        "log throughput: one step printing %d lines (%zu-byte chunks), %d rounds interleaved, every line\n"
        "read back and checked in every round; speed-up = baseline seconds / path seconds, per round\n",
        lines, kChunk, rounds);
    std::printf("%-40s %8s %8s %7s %18s %11s %s\n", "path", "p50 s", "p90 s", "spread", "min..max s", "lines/s p50",
                "speed-up p50 (p10..p90)");
    printRow("baseline: one RPUSH per line (original)", baseline, baseline, lines);
    printRow("dray redis, flush-ms 0 (group commit)", batched, baseline, lines);
    printRow("dray redis, flush-ms 50 (before #20)", batched_timer, baseline, lines);
    printRow("dray memory storage", in_memory, baseline, lines);
    const bench::Summary change = bench::summarize(bench::ratios(batched_timer, batched));
    std::printf("redis log rate, flush-ms 0 / flush-ms 50 (per round, lines/s): p50 %.2f (p10..p90 %.2f..%.2f)\n",
                change.p50, change.p10, change.p90);
    // Goal of issue #3: batching at least 10x the baseline.
    if (bench::summarize(bench::ratios(baseline, batched)).p50 < 10) exit_code = 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_log_throughput: round failed: %s\n", e.what());
    exit_code = 2;
  }
  Poco::Process::requestTermination(server.id());
  server.wait();
  return exit_code;
}
