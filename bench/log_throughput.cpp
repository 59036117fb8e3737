// Log lines/s into storage for one step printing 10^6 lines, through the same path the core
// uses (chunks -> JobLogWriter -> Storage::appendLog), against the original Dray's way of
// writing logs (one RPUSH round trip per line), all in one run on one redis-server.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Process.h>
#include <Poco/Redis/Client.h>
#include <Poco/Redis/Command.h>
#include <spdlog/spdlog.h>

#include "job_log.hpp"
#include "memory_storage.hpp"
#include "redis_storage.hpp"
#include "spdlog_logger.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace dray;

constexpr int kLines = 1'000'000;
constexpr std::size_t kChunk = 32 * 1024;  // about what one attach frame carries

// The step's output as the runtime hands it on: "line N\n" text in fixed-size chunks.
std::vector<std::string> makeChunks() {
  std::string all;
  for (int i = 0; i < kLines; ++i) all += "line " + std::to_string(i) + "\n";
  std::vector<std::string> chunks;
  for (std::size_t at = 0; at < all.size(); at += kChunk) chunks.push_back(all.substr(at, kChunk));
  return chunks;
}

double secondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double throughDray(sdk::Storage& storage, const std::string& id, const std::vector<std::string>& chunks) {
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
  if (storage.readLog(id, kLines - 1, SIZE_MAX).size() != 1) std::fprintf(stderr, "warning: %s lost lines\n", id.c_str());
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

double onePushPerLine(int port, int lines) {
  Poco::Redis::Client client("127.0.0.1", port);
  auto start = Clock::now();
  for (int i = 0; i < lines; ++i) {
    Poco::Redis::Command push("RPUSH");
    push << "baseline:log" << "line " + std::to_string(i);
    client.execute<Poco::Int64>(push);
  }
  return secondsSince(start);
}

}  // namespace

int main() {
  const int port = Poco::Net::ServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0)).address().port();
  Poco::ProcessHandle server = Poco::Process::launch(
      "redis-server", {"--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                       "--logfile", "/dev/null"});
  waitForPort(port);

  auto chunks = makeChunks();
  core::SpdlogLogger logger(spdlog::default_logger());
  plugins::storage::redis::RedisAddress address;
  address.port = port;
  plugins::storage::redis::RedisStorage redis_storage(address, {}, logger);
  plugins::storage::memory::MemoryStorage memory;

  double baseline = onePushPerLine(port, kLines);
  double batched = throughDray(redis_storage, "REDIS", chunks);
  double in_memory = throughDray(memory, "MEMORY", chunks);

  std::printf("log throughput, one step printing %d lines (%zu-byte chunks)\n", kLines, kChunk);
  std::printf("%-44s %10s %14s %8s\n", "path", "seconds", "lines/s", "ratio");
  std::printf("%-44s %10.3f %14.0f %8.2f\n", "baseline: one RPUSH per line (the original)", baseline, kLines / baseline, 1.0);
  std::printf("%-44s %10.3f %14.0f %8.2f\n", "dray redis storage (batched, pipelined)", batched, kLines / batched, baseline / batched);
  std::printf("%-44s %10.3f %14.0f %8.2f\n", "dray memory storage", in_memory, kLines / in_memory, baseline / in_memory);

  Poco::Process::requestTermination(server.id());
  server.wait();
  return batched * 10 <= baseline ? 0 : 1;  // goal: batching at least 10x the baseline
}
