// Issue 16: how fast pushed news reaches a client, and what 400 followers cost the jobs.
// Starts its own dray (memory storage, or Redis when REDIS_URL is set) with DRAY_WEBHOOK_URL
// pointing at a receiver in this process. Poco and dray-cli's SSE reader only, no dray code.
//
//   bench_push_latency DRAY_BINARY PLUGIN_DIR [ROUNDS] [FOLLOWER_ROUNDS]
//
// Part 1, ROUNDS rounds (default 30), one job each whose step's last line is the time it was
// printed (adjtimex(2) in the container: the host's clock, microseconds). Per round, from
// the same job:
//   log:       the line's time -> its SSE `log` event arrives
//   end:       the job's finishedAt -> the SSE `end` event arrives
//   long-poll: finishedAt -> the answer of GET /jobs/{id}?wait=60 arrives
//   webhook:   finishedAt -> the DRAY_WEBHOOK_URL request arrives
//   baseline:  finishedAt -> a client polling GET /jobs/{id} every 250 ms sees the end
//              (what a user does without push)
// Part 2, FOLLOWER_ROUNDS rounds (default 20) each way, interleaved: the Word Job's
// createdAt -> finishedAt with no follower but the one that times it, with 400 followers
// from 8 loopback addresses (200 on the job, 200 on 10 other running jobs), and a control
// with the same 400 connections where none follows the job; plus the CPU time dray and
// this program (the clients) spent per round.
// Every round is checked (status complete, the exact lines, every push arrived); a failed
// round ends the run with exit 1. Prints p50, p90, p99, spread and min..max.
#include <sys/resource.h>
#include <unistd.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <Poco/DateTimeParser.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>
#include <Poco/TemporaryFile.h>

#include "app/cli/sse_reader.hpp"
#include "bench/stats.hpp"

namespace {

using SysClock = std::chrono::system_clock;
using Json = Poco::JSON::Object::Ptr;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "bench_push_latency: round failed: %s\n", what.c_str());
  std::exit(1);
}

Json parseObject(const std::string& text) { return Poco::JSON::Parser().parse(text).extract<Json>(); }

double msBetween(SysClock::time_point from, SysClock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// RFC 3339 with a fraction ("2026-11-28T17:41:22.978396Z") as a system_clock time.
SysClock::time_point parseTime(const std::string& text) {
  int tz = 0;
  Poco::DateTime parsed = Poco::DateTimeParser::parse(Poco::DateTimeFormat::ISO8601_FRAC_FORMAT, text, tz);
  return SysClock::time_point(std::chrono::microseconds(parsed.timestamp().epochMicroseconds()));
}

// "1795887892.964050" (seconds.microseconds) as a system_clock time.
SysClock::time_point parseStamp(const std::string& line) {
  const auto dot = line.find('.');
  if (dot == std::string::npos || line.size() != dot + 7) fail("not a time stamp line: " + line);
  const long long seconds = std::stoll(line.substr(0, dot));
  const long long micros = std::stoll(line.substr(dot + 1));
  return SysClock::time_point(std::chrono::duration_cast<SysClock::duration>(std::chrono::seconds(seconds) +
                                                                             std::chrono::microseconds(micros)));
}

// Webhook arrivals by job id.
class Receiver : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  class Handler : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(Receiver& receiver) : receiver_(receiver) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
      const auto at = SysClock::now();
      std::string body;
      Poco::StreamCopier::copyToString(request.stream(), body);
      receiver_.arrived(parseObject(body)->getValue<std::string>("id"), at);
      response.setContentLength(0);
      response.send();
    }

   private:
    Receiver& receiver_;
  };
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new Handler(*this);
  }
  void arrived(const std::string& id, SysClock::time_point at) {
    std::lock_guard lock(mutex_);
    arrivals_.emplace(id, at);
    changed_.notify_all();
  }
  SysClock::time_point waitFor(const std::string& id) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, std::chrono::seconds(10), [&] { return arrivals_.count(id) > 0; }))
      fail("no webhook for job " + id);
    return arrivals_.at(id);
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, SysClock::time_point> arrivals_;
};

class Dray {
 public:
  Dray(const std::string& binary, const std::string& plugins, std::map<std::string, std::string> env) {
    env["DRAY_PLUGIN_PATH"] = plugins;
    env["LOG_LEVEL"] = "info";
    env["DRAY_LISTEN"] = "127.0.0.1";
    if (const char* redis = std::getenv("REDIS_URL")) {
      env["DRAY_STORAGE"] = "redis";
      env["REDIS_URL"] = redis;
    } else {
      env["DRAY_STORAGE"] = "memory";
    }
    Poco::Process::Env process_env(env.begin(), env.end());
    handle_ = std::make_unique<Poco::ProcessHandle>(
        Poco::Process::launch("/bin/sh", {"-c", "exec \"$0\" -p 0 >" + log_.path() + " 2>&1", binary}, nullptr, nullptr,
                              nullptr, process_env));
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::ifstream in(log_.path());
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (auto at = text.find("dray listening on port "); at != std::string::npos)
        port_ = std::stoi(text.substr(at + 23));
    }
    if (port_ == 0) fail("dray did not start");
  }
  ~Dray() {
    Poco::Process::requestTermination(handle_->id());
    handle_->wait();
  }
  std::uint16_t port() const { return static_cast<std::uint16_t>(port_); }
  // CPU time dray has used so far (user + system, from /proc), ms.
  double cpuMs() const {
    std::ifstream in("/proc/" + std::to_string(handle_->id()) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));  // after "pid (comm) "
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
      if (i >= 14) ticks += std::stod(field);  // utime, stime
    }
    return ticks * 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }

  std::string request(const std::string& method, const std::string& path, const std::string& body = "") const {
    Poco::Net::HTTPClientSession session("127.0.0.1", port());
    session.setTimeout(Poco::Timespan(120, 0));
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!body.empty()) {
      request.setContentType("application/json");
      request.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::string answer;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), answer);
    if (response.getStatus() / 100 != 2) fail(method + " " + path + ": " + std::to_string(response.getStatus()));
    return answer;
  }
  std::string submit(const std::string& job) const {
    return parseObject(request("POST", "/jobs", job))->getValue<std::string>("id");
  }

 private:
  Poco::TemporaryFile log_;
  std::unique_ptr<Poco::ProcessHandle> handle_;
  int port_ = 0;
};

// One SSE connection to a job's events.
class Follower {
 public:
  Follower(const Dray& dray, const std::string& id, const std::string& source = "")
      : session_(connect(dray.port(), source)) {
    session_.setTimeout(Poco::Timespan(120, 0));
    Poco::Net::HTTPRequest request("GET", "/jobs/" + id + "/events", Poco::Net::HTTPMessage::HTTP_1_1);
    session_.sendRequest(request);
    body_ = &session_.receiveResponse(response_);
    if (response_.getStatus() != 200) fail("events of " + id + ": " + std::to_string(response_.getStatus()));
    reader_ = std::make_unique<dray::cli::SseReader>(*body_);
  }
  std::optional<dray::cli::SseEvent> next() { return reader_->next(); }

 private:
  static Poco::Net::StreamSocket connect(std::uint16_t port, const std::string& source) {
    Poco::Net::StreamSocket socket;
    if (!source.empty()) socket.impl()->bind(Poco::Net::SocketAddress(source, 0));
    socket.connect(Poco::Net::SocketAddress("127.0.0.1", port));
    return socket;
  }
  Poco::Net::HTTPClientSession session_;
  Poco::Net::HTTPResponse response_;
  std::istream* body_ = nullptr;
  std::unique_ptr<dray::cli::SseReader> reader_;
};

void printRow(const char* path, const std::vector<double>& ms) {
  const bench::Summary s = bench::summarize(ms);
  std::printf("%-44s %8.2f %8.2f %8.2f %6.0f%%  %8.2f..%-8.2f\n", path, s.p50, s.p90, bench::percentile(ms, 99),
              s.spread() * 100, s.min, s.max);
}

void goal(const char* what, const std::vector<double>& ms) {
  const double p50 = bench::percentile(ms, 50), p99 = bench::percentile(ms, 99);
  std::printf("goal %s: p50 %.2f ms <= 5: %s, p99 %.2f ms <= 50: %s\n", what, p50, p50 <= 5 ? "met" : "NOT met", p99,
              p99 <= 50 ? "met" : "NOT met");
}

// The last line is the time it is printed, from adjtimex(2) (microseconds, the host's clock).
const char* kStampJob = R"({"steps":[{"source":"dray-test/script","environment":[{"variable":"SCRIPT",
  "value":"echo start; sleep 0.2; adjtimex | awk '/tv_sec/{s=$2} /tv_usec/{u=$2} END{printf \"%d.%06d\\n\", s, u}'"}]}]})";
const char* kWordJob = R"({"steps":[
  {"source":"dray-test/randword","environment":[{"variable":"WORD_COUNT","value":"5"}]},
  {"source":"dray-test/upper"},{"source":"dray-test/reverse"}]})";

// Part 1: one job, every push path timed from the same job.
void pushRound(const Dray& dray, Receiver& receiver, std::map<std::string, std::vector<double>>& ms) {
  const std::string id = dray.submit(kStampJob);
  Follower follower(dray, id);
  std::atomic<bool> stop_polling{false};
  SysClock::time_point long_poll_at{}, poll_seen_at{};
  std::thread long_poll([&] {
    const std::string answer = dray.request("GET", "/jobs/" + id + "?wait=60");
    long_poll_at = SysClock::now();
    if (parseObject(answer)->getValue<std::string>("status") != "complete") fail("long-poll: job not complete");
  });
  std::thread poller([&] {  // the baseline: what a client without push does
    while (!stop_polling) {
      const std::string answer = dray.request("GET", "/jobs/" + id);
      if (parseObject(answer)->getValue<std::string>("status") != "running") {
        poll_seen_at = SysClock::now();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  });
  SysClock::time_point stamp{}, log_at{}, end_at{};
  std::vector<std::string> lines;
  while (auto event = follower.next()) {
    if (event->event == "log") {
      const std::string line = parseObject(event->data)->getValue<std::string>("line");
      lines.push_back(line);
      if (lines.size() == 2) {
        log_at = SysClock::now();
        stamp = parseStamp(line);
      }
    } else if (event->event == "end") {
      end_at = SysClock::now();
      if (parseObject(event->data)->getValue<std::string>("status") != "complete") fail("job " + id + " not complete");
      break;
    }
  }
  long_poll.join();
  poller.join();
  if (lines.size() != 2 || lines[0] != "start") fail("job " + id + ": unexpected log");
  const auto webhook_at = receiver.waitFor(id);
  const auto finished = parseTime(parseObject(dray.request("GET", "/jobs/" + id))->getValue<std::string>("finishedAt"));
  ms["log"].push_back(msBetween(stamp, log_at));
  ms["end"].push_back(msBetween(finished, end_at));
  ms["long-poll"].push_back(msBetween(finished, long_poll_at));
  ms["webhook"].push_back(msBetween(finished, webhook_at));
  ms["poll"].push_back(msBetween(finished, poll_seen_at));
}

// Part 2: the Word Job's server time, alone or with 400 followers: 200 on 10 other running
// jobs, connected before the job is posted (they are there all along), and 200 on the job
// itself, connected as soon as its id is known (as a dashboard's would be).
struct WordJobTimes {
  double server_ms;      // createdAt -> finishedAt
  double dray_cpu_ms;    // dray's CPU time from before the followers connect to the job's end
  double client_cpu_ms;  // this program's (the clients') over the same time
};

double ownCpuMs() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1000.0 + t.tv_usec / 1000.0; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

// kElsewhere is the control: the same 400 connections at the same moments, but the 200
// that would follow the job follow the other jobs, so the job's events reach no one else.
enum class Crowd { kNone, kFollowing, kElsewhere };

WordJobTimes wordJobRound(const Dray& dray, const std::vector<std::string>& sleepers, Crowd crowd_kind) {
  const bool crowd = crowd_kind != Crowd::kNone;
  const double cpu_before = dray.cpuMs();
  const double client_cpu_before = ownCpuMs();
  std::vector<std::unique_ptr<Follower>> crowd_followers;
  if (crowd) {
    for (int i = 0; i < 200; ++i) {
      crowd_followers.push_back(std::make_unique<Follower>(
          dray, sleepers[static_cast<std::size_t>(i) % sleepers.size()], "127.0.0." + std::to_string(2 + i % 8)));
    }
  }
  const std::string id = dray.submit(kWordJob);
  if (crowd) {
    for (int i = 0; i < 200; ++i) {
      const std::string& target =
          crowd_kind == Crowd::kFollowing ? id : sleepers[static_cast<std::size_t>(i) % sleepers.size()];
      crowd_followers.push_back(std::make_unique<Follower>(dray, target, "127.0.0." + std::to_string(2 + i % 8)));
    }
  }
  Follower timer(dray, id);
  std::size_t lines = 0;
  while (auto event = timer.next()) {
    if (event->event == "log") ++lines;
    if (event->event == "end") {
      auto job = parseObject(event->data);
      if (job->getValue<std::string>("status") != "complete" || lines != 15) fail("word job " + id);
      return {msBetween(parseTime(job->getValue<std::string>("createdAt")),
                        parseTime(job->getValue<std::string>("finishedAt"))),
              dray.cpuMs() - cpu_before, ownCpuMs() - client_cpu_before};
    }
  }
  fail("word job " + id + ": the stream ended early");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_push_latency DRAY_BINARY PLUGIN_DIR [ROUNDS] [FOLLOWER_ROUNDS]\n");
    return 2;
  }
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 30;
  const int follower_rounds = argc > 4 ? std::atoi(argv[4]) : 20;
  Receiver* receiver = new Receiver;  // owned by the server
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  Poco::Net::HTTPServer server(receiver, socket, new Poco::Net::HTTPServerParams);
  server.start();
  {
    Dray dray(argv[1], argv[2],
              {{"DRAY_WORKERS", "16"},
               {"DRAY_INSTANCE", "bench-push"},
               {"DRAY_WEBHOOK_URL", "http://127.0.0.1:" + std::to_string(server.port()) + "/hook"}});
    std::map<std::string, std::vector<double>> ms;
    for (int round = 0; round < rounds; ++round) pushRound(dray, *receiver, ms);
    std::printf("push latency (%s storage): %d jobs, each path timed on the same job, ms\n",
                std::getenv("REDIS_URL") ? "redis" : "memory", rounds);
    std::printf("%-44s %8s %8s %8s %7s  %s\n", "path", "p50", "p90", "p99", "spread", "min..max");
    printRow("log: line written -> SSE log event", ms["log"]);
    printRow("end: finishedAt -> SSE end event", ms["end"]);
    printRow("long-poll: finishedAt -> answer", ms["long-poll"]);
    printRow("webhook: finishedAt -> request arrives", ms["webhook"]);
    printRow("baseline: finishedAt -> 250 ms poller sees it", ms["poll"]);
    goal("log", ms["log"]);
    goal("end", ms["end"]);
    goal("long-poll", ms["long-poll"]);
    goal("webhook", ms["webhook"]);
    std::fflush(stdout);
    if (follower_rounds == 0) {
      server.stop();
      return 0;
    }

    std::vector<std::string> sleepers;
    for (int i = 0; i < 10; ++i) {
      sleepers.push_back(dray.submit(R"({"steps":[{"source":"dray-test/script","environment":[
        {"variable":"SCRIPT","value":"echo sleeping; sleep 3600"}]}]})"));
    }
    std::vector<double> alone, crowded, elsewhere, alone_cpu, crowded_cpu, elsewhere_cpu, client_cpu;
    const Crowd kinds[] = {Crowd::kNone, Crowd::kFollowing, Crowd::kElsewhere};
    for (int round = 0; round < follower_rounds; ++round) {
      for (int turn = 0; turn < 3; ++turn) {  // each way goes first, second and third in turn
        const Crowd kind = kinds[(round + turn) % 3];
        const WordJobTimes times = wordJobRound(dray, sleepers, kind);
        (kind == Crowd::kNone ? alone : kind == Crowd::kFollowing ? crowded : elsewhere).push_back(times.server_ms);
        (kind == Crowd::kNone        ? alone_cpu
         : kind == Crowd::kFollowing ? crowded_cpu
                                     : elsewhere_cpu)
            .push_back(times.dray_cpu_ms);
        if (kind == Crowd::kFollowing) client_cpu.push_back(times.client_cpu_ms);
      }
    }
    for (const auto& id : sleepers) dray.request("POST", "/jobs/" + id + "/cancel");
    std::printf("followers: the Word Job's createdAt -> finishedAt, %d rounds each way, interleaved, ms\n",
                follower_rounds);
    std::printf("%-44s %8s %8s %8s %7s  %s\n", "path", "p50", "p90", "p99", "spread", "min..max");
    printRow("no other follower", alone);
    printRow("400 followers (8 addresses)", crowded);
    printRow("control: 400 connected, none on this job", elsewhere);
    const auto ratio = bench::summarize(bench::ratios(crowded, alone));
    std::printf("with 400 followers / without, per round: p50 %.3f (p10..p90 %.3f..%.3f)\n", ratio.p50, ratio.p10,
                ratio.p90);
    const auto control = bench::summarize(bench::ratios(elsewhere, alone));
    std::printf("control / without, per round: p50 %.3f (p10..p90 %.3f..%.3f)\n", control.p50, control.p10,
                control.p90);
    std::printf("dray's CPU time per round (followers connecting, events, the job), ms\n");
    printRow("no other follower", alone_cpu);
    printRow("400 followers (8 addresses)", crowded_cpu);
    printRow("control: 400 connected, none on this job", elsewhere_cpu);
    printRow("the 401 clients (this program), following", client_cpu);
  }
  server.stop();
  return 0;
}
