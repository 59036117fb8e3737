// What a user's program sees of dray (issue 20): a Word Job from `POST /jobs` until
// `GET /jobs/{id}` answers `complete`, polled on one keep-alive connection (no process per
// poll: curl processes every few ms would take the 2 cores from dockerd). Poco only, no dray
// code. The server's own createdAt -> finishedAt is printed beside it: finishedAt is stamped
// before the final status is queued for storage, so only the client's figure includes the
// time until a reader can see the job ended (with Redis, the write-behind queue's delay).
//
//   bench_dray_client latency URL POLL_MS          one job: prints "client_ms server_ms post_ms"
//       (post_ms: how long POST /jobs took to answer 201, which includes storing the job)
//   bench_dray_client throughput URL JOBS POLL_MS  JOBS jobs at once: prints "client_s server_s",
//       client: first POST sent -> every job seen complete; server: first createdAt -> last finishedAt
//
// Every job must end `complete` with the Word Job's exact 15-line log; otherwise exit 1.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <Poco/DateTimeParser.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

namespace {

using Clock = std::chrono::steady_clock;
using Poco::JSON::Object;
using Poco::Net::HTTPRequest;
using Poco::Net::HTTPResponse;

constexpr const char* kWordJob =
    R"({"steps":[{"source":"dray-test/randword"},{"source":"dray-test/upper"},{"source":"dray-test/reverse"}]})";
const std::vector<std::string> kWordLog = {"alpha", "bravo", "charlie", "delta", "echo",    "ALPHA", "BRAVO", "CHARLIE",
                                           "DELTA", "ECHO",  "AHPLA",   "OVARB", "EILRAHC", "ATLED", "OHCE"};

struct Reply {
  int status = 0;
  std::string body;
};

class Api {
 public:
  explicit Api(const std::string& url) {
    Poco::URI uri(url);
    session_.setHost(uri.getHost());
    session_.setPort(uri.getPort());
    session_.setKeepAlive(true);
    session_.setTimeout(Poco::Timespan(30, 0));
  }

  Reply call(const std::string& method, const std::string& path, const std::string& body = "") {
    HTTPRequest request(method, path, HTTPRequest::HTTP_1_1);
    request.setKeepAlive(true);
    if (!body.empty()) {
      request.setContentType("application/json");
      request.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    session_.sendRequest(request) << body;
    HTTPResponse response;
    std::istream& in = session_.receiveResponse(response);
    Reply reply;
    reply.status = response.getStatus();
    std::ostringstream text;
    Poco::StreamCopier::copyStream(in, text);
    reply.body = text.str();
    return reply;
  }

 private:
  Poco::Net::HTTPClientSession session_;
};

Object::Ptr parse(const std::string& json) { return Poco::JSON::Parser().parse(json).extract<Object::Ptr>(); }

std::string submit(Api& api) {
  Reply reply = api.call("POST", "/jobs", kWordJob);
  if (reply.status != 201) throw std::runtime_error("POST /jobs answered " + std::to_string(reply.status));
  return parse(reply.body)->getValue<std::string>("id");
}

// The job's record once it is no longer `running`; throws unless it ended `complete`.
Object::Ptr ended(Api& api, const std::string& id) {
  Reply reply = api.call("GET", "/jobs/" + id);
  if (reply.status != 200) throw std::runtime_error("GET /jobs/" + id + " answered " + std::to_string(reply.status));
  Object::Ptr job = parse(reply.body);
  const std::string status = job->getValue<std::string>("status");
  if (status == "running") return nullptr;
  if (status != "complete") throw std::runtime_error("job " + id + " ended '" + status + "'");
  return job;
}

void checkLog(Api& api, const std::string& id) {
  Reply reply = api.call("GET", "/jobs/" + id + "/log");
  if (reply.status != 200) throw std::runtime_error("log of " + id + " answered " + std::to_string(reply.status));
  Poco::JSON::Array::Ptr lines = parse(reply.body)->getArray("lines");
  bool same = lines && lines->size() == kWordLog.size();
  for (std::size_t i = 0; same && i < kWordLog.size(); ++i) same = lines->getElement<std::string>(i) == kWordLog[i];
  if (!same) throw std::runtime_error("job " + id + " logged " + reply.body);
}

double epochMs(const std::string& rfc3339) {
  int tzd = 0;
  return static_cast<double>(Poco::DateTimeParser::parse(rfc3339, tzd).timestamp().epochMicroseconds()) / 1000.0;
}

// createdAt -> finishedAt of an ended job, in ms since the epoch.
std::pair<double, double> serverTimes(const Object::Ptr& job) {
  return {epochMs(job->getValue<std::string>("createdAt")), epochMs(job->getValue<std::string>("finishedAt"))};
}

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

int latency(const std::string& url, int poll_ms) {
  Api api(url);
  const auto start = Clock::now();
  const std::string id = submit(api);
  const double post_ms = msSince(start);
  Object::Ptr job;
  while (!(job = ended(api, id))) std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  const double client_ms = msSince(start);
  checkLog(api, id);
  auto [created, finished] = serverTimes(job);
  std::printf("%.1f %.1f %.2f\n", client_ms, finished - created, post_ms);
  return 0;
}

int throughput(const std::string& url, int jobs, int poll_ms) {
  Api api(url);
  const auto start = Clock::now();
  std::vector<std::string> ids;
  for (int i = 0; i < jobs; ++i) ids.push_back(submit(api));
  // Waits for the jobs in the order they were taken: one GET per poll, not one per job
  // (a sweep over all of them would cost as much CPU as the engine needs). The last one
  // seen complete ends the window, at most one poll interval late.
  std::vector<Object::Ptr> records;
  for (const auto& id : ids) {
    Object::Ptr job;
    while (!(job = ended(api, id))) std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
    records.push_back(job);
  }
  const double client_s = msSince(start) / 1000.0;
  double first = 0, last = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    checkLog(api, ids[i]);
    auto [created, finished] = serverTimes(records[i]);
    if (i == 0 || created < first) first = created;
    if (i == 0 || finished > last) last = finished;
  }
  std::printf("%.3f %.3f\n", client_s, (last - first) / 1000.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 4 && std::strcmp(argv[1], "latency") == 0) return latency(argv[2], std::atoi(argv[3]));
    if (argc == 5 && std::strcmp(argv[1], "throughput") == 0) {
      return throughput(argv[2], std::atoi(argv[3]), std::atoi(argv[4]));
    }
    std::fprintf(stderr, "usage: bench_dray_client latency URL POLL_MS | throughput URL JOBS POLL_MS\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_dray_client: round failed: %s\n", e.what());
    return 1;
  }
}
