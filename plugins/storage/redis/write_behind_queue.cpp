#include "plugins/storage/redis/write_behind_queue.hpp"

#include <charconv>

#include <Poco/Redis/Array.h>
#include <Poco/Redis/Command.h>
#include <Poco/Redis/Error.h>

#include "dray/sdk/errors.hpp"
#include "plugins/storage/redis/redis_scripts.hpp"

namespace dray::plugins::storage::redis {
namespace {

using Poco::Redis::Array;
using Poco::Redis::Command;

constexpr std::size_t kMaxBatchBytes = 1u << 20;  // one RPUSH stays well below Redis' limits

// One scripted RPUSH's lines: their sizes as "3,0,12" and their bytes back to back. Any
// byte may appear in a line, so sizes, not separators, tell where each one ends.
struct PackedBatch {
  std::string sizes;
  std::string text;
  std::size_t count = 0;

  void add(std::string_view line) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, line.size()).ptr;
    if (count > 0) sizes.push_back(',');
    sizes.append(digits, end);
    text.append(line);
    ++count;
  }
  void clear() {
    sizes.clear();
    text.clear();
    count = 0;
  }
};

// A script on the job's keys (RedisKeys::ofJob order), and the jobs list when `with_list`.
Command eval(const char* script, const RedisKeys& keys, const std::string& job, bool with_list) {
  std::vector<std::string> names = keys.ofJob(job);
  if (with_list) names.push_back(keys.jobs());
  Command command("EVAL");
  command << script << std::to_string(names.size());
  for (const auto& name : names) command << name;
  return command;
}

// Redis' own error text for reply `i`, empty when that reply is not an error.
std::string errorText(const Array& replies, std::size_t i) {
  if (replies.getType(i) != Poco::Redis::RedisTypeTraits<Poco::Redis::Error>::TypeId) return "";
  return replies.get<Poco::Redis::Error>(i).getMessage();
}

}  // namespace

WriteBehindQueue::WriteBehindQueue(RedisConnectionPool& pool, RedisKeys keys, WriteBehindOptions options,
                                   sdk::Logger& logger)
    : pool_(pool), keys_(std::move(keys)), options_(options), logger_(logger), writer_([this] { writerLoop(); }) {}

WriteBehindQueue::~WriteBehindQueue() {
  if (!flush(std::chrono::seconds(5))) {
    std::lock_guard lock(mutex_);
    logger_.error("redis storage: stopping with " + std::to_string(pending_lines_) + " log lines not written");
  }
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_writer_.notify_all();
  progress_.notify_all();
  writer_.join();
}

void WriteBehindQueue::appendLog(const std::string& id, std::span<const std::string_view> lines) {
  if (lines.empty()) return;
  Op op;
  op.job = id;
  std::size_t text_size = 0;
  for (std::string_view line : lines) text_size += line.size();
  op.text.reserve(text_size);
  op.sizes.reserve(lines.size());
  for (std::string_view line : lines) {
    op.text.append(line);
    op.sizes.push_back(line.size());
  }
  op.bytes = text_size + 16 * lines.size();
  enqueue(std::move(op));
}

void WriteBehindQueue::setField(const std::string& id, FieldWrite write) {
  Op op;
  op.kind = Op::Kind::kField;
  op.job = id;
  op.bytes = write.field.size() + write.value.size() + write.channel.size() + write.message.size() + 16;
  op.field = std::move(write);
  enqueue(std::move(op));
}

void WriteBehindQueue::setOutput(const std::string& id, std::string_view bytes) {
  Op op;
  op.kind = Op::Kind::kOutput;
  op.job = id;
  op.text = bytes;
  op.bytes = bytes.size() + 16;
  enqueue(std::move(op));
}

void WriteBehindQueue::enqueue(Op op) {
  std::unique_lock lock(mutex_);
  // Back-pressure: a step printing faster than Redis takes it waits here, memory stays bounded.
  progress_.wait(lock, [&] {
    return stopping_ || pending_bytes_ == 0 || pending_bytes_ + op.bytes <= options_.max_pending_bytes;
  });
  pending_bytes_ += op.bytes;
  pending_lines_ += op.sizes.size();
  const bool first = queue_.empty();
  const bool full = pending_lines_ >= options_.batch_lines;
  queue_.push_back(std::move(op));
  ++enqueued_;
  // The first op starts the writer's flush-interval clock; a full batch ends it early.
  if (first || full) wake_writer_.notify_one();
}

bool WriteBehindQueue::flush(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = enqueued_;
  urgent_ = true;
  wake_writer_.notify_one();
  return progress_.wait_for(lock, limit, [&] { return written_ >= target || stopping_; }) && written_ >= target;
}

void WriteBehindQueue::writerLoop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_writer_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    // Group commit: write at once; whatever queued during the previous round trip is in
    // this one, so an idle dray adds one round trip to a status change and a flood still
    // gets big batches. A flush-ms setting may still gather a trickle into fewer writes.
    if (options_.flush_interval.count() > 0) {
      wake_writer_.wait_for(lock, options_.flush_interval,
                            [&] { return stopping_ || urgent_ || pending_lines_ >= options_.batch_lines; });
    }
    urgent_ = false;
    std::deque<Op> ops;
    ops.swap(queue_);
    lock.unlock();
    std::size_t bytes = 0, lines = 0;
    for (const auto& op : ops) {
      bytes += op.bytes;
      lines += op.sizes.size();
    }
    bool warned = false;
    for (;;) {
      try {
        write(ops);
        if (warned) logger_.info("redis storage: Redis is back, queued writes done");
        break;
      } catch (const RedisUnreachable& e) {
        // Keep every line and try again (write() is idempotent); the pool backs off.
        if (!warned) logger_.warn(std::string("redis storage: ") + e.what() + "; keeping writes queued");
        warned = true;
        std::lock_guard check(mutex_);
        if (stopping_) return;
      } catch (const std::exception& e) {
        // Redis refused the commands themselves: retrying cannot help.
        logger_.error(std::string("redis storage: dropping ") + std::to_string(lines) + " log lines: " + e.what());
        break;
      }
    }
    lock.lock();
    pending_bytes_ -= bytes;
    pending_lines_ -= lines;
    written_ += ops.size();
    progress_.notify_all();
  }
}

void WriteBehindQueue::write(std::deque<Op>& ops) {
  // Build one pipeline: consecutive appends to a job merge into batches; a field update or
  // an output closes the job's open batch first, so per-job order is kept.
  std::vector<Array> commands;
  std::vector<std::string> command_job;   // job of each log command, "" for field updates
  std::vector<std::string> command_what;  // what each field or output command sets, for errors
  std::map<std::string, long long> length = log_length_;
  std::map<std::string, PackedBatch> open;
  std::vector<std::string> finished;  // jobs whose final status is in this pipeline
  const std::string ttl = std::to_string(options_.key_ttl.count());

  auto close = [&](const std::string& job) {
    auto it = open.find(job);
    if (it == open.end() || it->second.count == 0) return;
    PackedBatch& batch = it->second;
    auto known = length.find(job);
    long long before = known == length.end() ? -1 : known->second;
    Command command = eval(kAppendLogScript, keys_, job, false);
    command << std::to_string(before) << std::to_string(batch.count) << batch.sizes << batch.text << ttl
            << keys_.changeChannel(job);
    commands.push_back(command);
    command_job.push_back(job);
    command_what.emplace_back();
    length[job] = before < 0 ? -1 : before + static_cast<long long>(batch.count);
    batch.clear();
  };

  for (auto& op : ops) {
    if (op.kind == Op::Kind::kField) {
      close(op.job);  // lines logged before the change are written (and readable) before it is announced
      const FieldWrite& write = op.field;
      if (write.hash == FieldWrite::Hash::kJob && write.field == "status" && write.value != "running") {
        finished.push_back(op.job);
      }
      Command command = eval(kSetFieldScript, keys_, op.job, true);
      command << (write.hash == FieldWrite::Hash::kJob ? "1" : "5") << write.field << write.value << write.channel
              << write.message << ttl << (write.unlist ? op.job : std::string()) << keys_.changeChannel(op.job);
      commands.push_back(command);
      command_job.push_back("");
      command_what.push_back("field " + write.field + " of job " + op.job);
      continue;
    }
    if (op.kind == Op::Kind::kOutput) {
      close(op.job);
      Command command = eval(kSetOutputScript, keys_, op.job, false);
      command << op.text << ttl << keys_.changeChannel(op.job);
      commands.push_back(command);
      command_job.push_back("");
      command_what.push_back("output of job " + op.job);
      continue;
    }
    std::size_t at = 0;
    for (std::size_t size : op.sizes) {
      PackedBatch& batch = open[op.job];
      batch.add(std::string_view(op.text).substr(at, size));
      at += size;
      if (batch.count >= options_.batch_lines || batch.text.size() >= kMaxBatchBytes) close(op.job);
    }
  }
  for (const auto& [job, batch] : open) close(job);
  if (commands.empty()) return;

  Array replies =
      pool_.run<Array>([&](RedisConnection& client) { return client.sendCommands(commands); }, std::chrono::seconds(5));
  // Commit what we learnt about log lengths only after the whole pipeline went through.
  for (std::size_t i = 0; i < commands.size(); ++i) {
    if (command_job[i].empty()) {
      // A refused update does not undo the rest of the pipeline, which went through: say
      // which one, rather than report the whole batch lost.
      if (replies.getType(i) == Poco::Redis::RedisTypeTraits<Poco::Redis::Error>::TypeId) {
        logger_.error("redis storage: Redis refused the " + command_what[i] + ": " + errorText(replies, i));
      }
      continue;
    }
    if (replies.getType(i) != Poco::Redis::RedisTypeTraits<Poco::Int64>::TypeId) {
      const std::string error = errorText(replies, i);
      throw sdk::StorageError("unexpected reply to a log append" + (error.empty() ? "" : ": " + error));
    }
    long long reply = replies.get<Poco::Int64>(i);
    if (reply < 0) {
      log_length_.erase(command_job[i]);  // job deleted: its lines are dropped on purpose
    } else {
      log_length_[command_job[i]] = reply;
    }
  }
  for (const auto& job : finished) log_length_.erase(job);  // keeps the map as small as the running jobs
}

}  // namespace dray::plugins::storage::redis
