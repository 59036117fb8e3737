// Issue 16: live job events over SSE, the all-jobs stream and the long-poll. Real dray, real
// engine; cases tagged [redis-too] also run on Redis storage (DRAY_TEST_STORAGE=redis).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/http/script_step.hpp"
#include "tests/support/sse_client.hpp"
#include "tests/support/test_support.hpp"

using dray::test::DrayProcess;
using dray::test::EnvMap;
using dray::test::scriptStep;
using dray::test::SseClient;
using dray::test::SseEvent;
using namespace std::chrono_literals;

namespace {

constexpr const char* kWordJob = R"({"name":"words","steps":[
  {"source":"dray-test/randword","environment":[{"variable":"WORD_COUNT","value":"5"}]},
  {"source":"dray-test/upper"},
  {"source":"dray-test/reverse"}]})";

// Every event up to and including `end` (or the end of the stream).
std::vector<SseEvent> readAll(SseClient& client) {
  std::vector<SseEvent> events;
  while (auto event = client.next()) {
    events.push_back(*event);
    if (event->event == "end") break;
  }
  return events;
}

std::vector<std::string> logLinesOf(const std::vector<SseEvent>& events) {
  std::vector<std::string> lines;
  for (const auto& event : events) {
    if (event.event == "log") lines.push_back(event.json()->getValue<std::string>("line"));
  }
  return lines;
}

std::string describe(const std::vector<SseEvent>& events) {
  std::string text;
  for (const auto& event : events) text += event.event + " " + event.data.substr(0, 160) + "\n";
  return text;
}

// Checks the order of a sequential job's events: a state first; each step starts, its lines
// come, it ends, before the next starts; log ids count up from `first_index` without a gap;
// a final state and `end` close it. Returns the log lines.
std::vector<std::string> checkSequentialOrder(const std::vector<SseEvent>& events, std::size_t steps,
                                              const std::string& final_status) {
  INFO(describe(events));
  REQUIRE(events.size() >= 3);
  CHECK(events.front().event == "state");
  REQUIRE(events.back().event == "end");
  CHECK(events.back().json()->getValue<std::string>("status") == final_status);
  const SseEvent& last_state = events[events.size() - 2];
  CHECK(last_state.event == "state");
  CHECK(last_state.json()->getValue<std::string>("status") == final_status);
  long open_step = -1;
  std::size_t next_step = 0;
  std::size_t next_index = 0;
  for (const auto& event : events) {
    if (event.event == "step") {
      auto data = event.json();
      const auto index = data->getValue<std::size_t>("index");
      const std::string state = data->getValue<std::string>("state");
      if (state == "running") {
        CHECK(open_step == -1);
        CHECK(index == next_step);
        CHECK(data->getValue<unsigned>("attempt") == 1);
        open_step = static_cast<long>(index);
      } else {
        CHECK(open_step == static_cast<long>(index));
        if (final_status == "complete") CHECK(data->getValue<int>("exitCode") == 0);
        open_step = -1;
        ++next_step;
      }
    } else if (event.event == "log") {
      REQUIRE(event.id);
      CHECK(*event.id == std::to_string(next_index));
      CHECK(event.json()->getValue<std::size_t>("index") == next_index);
      ++next_index;
      // Container output comes while its step runs; dray's own lines may come between steps.
      const std::string line = event.json()->getValue<std::string>("line");
      if (!line.starts_with("dray:")) CHECK(open_step != -1);
    }
  }
  CHECK(next_step == steps);
  return logLinesOf(events);
}

}  // namespace

TEST_CASE("a 3-step job's live events come in order: state, steps with their lines, end", "[e2e][events][redis-too]") {
  DrayProcess dray;
  const std::string id = dray.submit(kWordJob);
  SseClient client(dray.port(), "/jobs/" + id + "/events");
  REQUIRE(client.status() == 200);
  CHECK(client.header("Content-Type").starts_with("text/event-stream"));
  CHECK(client.header("Cache-Control") == "no-cache");
  const auto events = readAll(client);
  INFO(dray.log());
  const auto lines = checkSequentialOrder(events, 3, "complete");
  CHECK(lines == dray.logLines(id));  // exactly the stored log, no line lost or repeated
  CHECK(lines.size() == 15);          // five words from each of the three steps
  CHECK(client.retryMs() == 2000);
  auto end = events.back().json();
  CHECK(end->getValue<std::string>("id") == id);
  CHECK(end->getValue<std::size_t>("stepsCompleted") == 3);
  CHECK(end->getArray("steps")->size() == 3);
  // Steps done count up one by one in the state events.
  std::vector<std::size_t> counts;
  for (const auto& event : events) {
    if (event.event == "state") counts.push_back(event.json()->getValue<std::size_t>("stepsCompleted"));
  }
  CHECK(std::is_sorted(counts.begin(), counts.end()));
  CHECK(counts.back() == 3);
  CHECK_FALSE(client.next());  // the stream closes after `end`
}

TEST_CASE("a client that comes after the end gets the whole history, the same as a live one",
          "[e2e][events][redis-too]") {
  DrayProcess dray;
  const std::string id = dray.submit(kWordJob);
  SseClient live(dray.port(), "/jobs/" + id + "/events");
  const auto live_events = readAll(live);
  REQUIRE(dray.waitForJob(id) == "complete");
  SseClient late(dray.port(), "/jobs/" + id + "/events");
  const auto late_events = readAll(late);
  checkSequentialOrder(late_events, 3, "complete");
  auto kinds = [](const std::vector<SseEvent>& events) {
    std::vector<std::string> out;
    for (const auto& event : events) out.push_back(event.event + (event.id ? *event.id : ""));
    return out;
  };
  // A live follower may see a queued state first; from the first step on the two agree.
  auto from_first_step = [&](const std::vector<SseEvent>& events) {
    auto all = kinds(events);
    auto at = std::find(all.begin(), all.end(), "step");
    return std::vector<std::string>(at, all.end());
  };
  INFO(describe(live_events) + "---\n" + describe(late_events));
  CHECK(from_first_step(late_events) == from_first_step(live_events));
  CHECK(logLinesOf(late_events) == logLinesOf(live_events));
}

TEST_CASE("Last-Event-ID resumes a 10,000-line log after a reconnect with no line lost or repeated",
          "[e2e][events][redis-too]") {
  DrayProcess dray;
  const std::string id = dray.submit(R"({"steps":[)" + scriptStep("seq 1 10000; sleep 1; echo after") + "]}");
  std::vector<std::string> lines;
  std::string last_id;
  {
    SseClient first(dray.port(), "/jobs/" + id + "/events");
    while (auto event = first.next()) {
      if (event->event != "log") continue;
      lines.push_back(event->json()->getValue<std::string>("line"));
      last_id = *event->id;
      if (lines.size() == 4321) break;  // the client goes away mid-log
    }
  }
  REQUIRE(last_id == "4320");
  SseClient second(dray.port(), "/jobs/" + id + "/events", {{"Last-Event-ID", last_id}});
  const auto rest = readAll(second);
  INFO(describe(std::vector<SseEvent>(rest.begin(), rest.begin() + std::min<std::size_t>(rest.size(), 8))));
  REQUIRE(!rest.empty());
  CHECK(rest.front().event == "state");  // a resumed stream starts with the state as it is
  bool first_log = true;
  for (const auto& event : rest) {
    if (event.event != "log") continue;
    if (first_log) CHECK(*event.id == "4321");
    first_log = false;
    lines.push_back(event.json()->getValue<std::string>("line"));
  }
  // The step started before line 4321 and was already announced: not again.
  CHECK(std::none_of(rest.begin(), rest.end(), [](const SseEvent& e) {
    return e.event == "step" && e.json()->getValue<std::string>("state") == "running";
  }));
  REQUIRE(lines.size() == 10001);
  for (std::size_t i = 0; i < 10000; ++i) {
    if (lines[i] != std::to_string(i + 1)) FAIL("line " << i << " is '" << lines[i] << "'");
  }
  CHECK(lines[10000] == "after");
  CHECK(rest.back().event == "end");
}

TEST_CASE("a failing step's event carries its exit code and the job ends in error", "[e2e][events]") {
  DrayProcess dray;
  const std::string id = dray.submit(R"({"steps":[)" + scriptStep("echo one") + "," + scriptStep("echo two; exit 3") +
                                     "," + scriptStep("echo never") + "]}");
  SseClient client(dray.port(), "/jobs/" + id + "/events");
  const auto events = readAll(client);
  INFO(describe(events));
  REQUIRE(events.back().event == "end");
  CHECK(events.back().json()->getValue<std::string>("status") == "error");
  std::vector<std::string> step_events;
  for (const auto& event : events) {
    if (event.event != "step") continue;
    auto data = event.json();
    step_events.push_back(std::to_string(data->getValue<int>("index")) + data->getValue<std::string>("state") +
                          (data->has("exitCode") ? std::to_string(data->getValue<int>("exitCode")) : ""));
  }
  CHECK(step_events == std::vector<std::string>{"0running", "0complete0", "1running", "1error3"});
}

TEST_CASE("log events carry lines with quotes, backslashes, control characters and UTF-8 exactly", "[e2e][events]") {
  DrayProcess dray;
  const std::string id =
      dray.submit(R"({"steps":[)" + scriptStep(R"(printf 'say "hi" \\ back\ttab caf\303\251 \001 end\n')") + "]}");
  SseClient client(dray.port(), "/jobs/" + id + "/events");
  const auto events = readAll(client);
  INFO(describe(events));
  const auto lines = logLinesOf(events);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "say \"hi\" \\ back\ttab caf\xc3\xa9 \x01 end");
  CHECK(lines == dray.logLines(id));
}

TEST_CASE("the event stream of an unknown job is a 404, a bad Last-Event-ID a 400", "[e2e][events]") {
  DrayProcess dray;
  SseClient unknown(dray.port(), "/jobs/00000000-0000-0000-0000-000000000000/events");
  CHECK(unknown.status() == 404);
  CHECK_THAT(unknown.body(), Catch::Contains("\"error\""));
  const std::string id = dray.submit(R"({"steps":[)" + scriptStep("echo hi") + "]}");
  SseClient bad(dray.port(), "/jobs/" + id + "/events", {{"Last-Event-ID", "x1"}});
  CHECK(bad.status() == 400);
  CHECK_THAT(bad.body(), Catch::Contains("Last-Event-ID"));
}

TEST_CASE("an idle event stream gets a heartbeat comment every DRAY_EVENTS_HEARTBEAT", "[e2e][events]") {
  DrayProcess dray(EnvMap{{"DRAY_EVENTS_HEARTBEAT", "0.3"}});
  const std::string id = dray.submit(R"({"steps":[)" + scriptStep("sleep 2; echo done") + "]}");
  SseClient client(dray.port(), "/jobs/" + id + "/events");
  const auto events = readAll(client);
  INFO(describe(events));
  CHECK(events.back().event == "end");
  std::printf("events: %zu heartbeat comments during a 2 s step at a 0.3 s heartbeat\n", client.comments());
  CHECK(client.comments() >= 3);
}

TEST_CASE("deleting a followed running job cancels it: the stream ends with its canceled end",
          "[e2e][events][redis-too]") {
  DrayProcess dray;
  const std::string id = dray.submit(R"({"steps":[)" + scriptStep("echo started; sleep 30") + "]}");
  SseClient client(dray.port(), "/jobs/" + id + "/events");
  while (auto event = client.next()) {
    if (event->event == "log") break;  // running now
  }
  REQUIRE(dray.del("/jobs/" + id).status == 204);
  const auto rest = readAll(client);
  INFO(describe(rest));
  REQUIRE(!rest.empty());
  // The step is seen canceled; then `end`, or `removed` when the delete won the race to the read.
  CHECK(std::any_of(rest.begin(), rest.end(), [](const SseEvent& e) {
    return e.event == "step" && e.json()->getValue<std::string>("state") == "canceled";
  }));
  if (rest.back().event == "end") {
    CHECK(rest.back().json()->getValue<std::string>("status") == "canceled");
  } else {
    CHECK(rest.back().event == "removed");
  }
  CHECK_FALSE(client.next());
}

TEST_CASE("a followed job whose records expire (DRAY_KEY_TTL) ends its stream with `removed`",
          "[e2e][events][redis-too]") {
  DrayProcess dray(EnvMap{{"DRAY_KEY_TTL", "1"}, {"DRAY_EVENTS_HEARTBEAT", "0.3"}});
  const std::string id = dray.submit(R"({"steps":[)" + scriptStep("echo started; sleep 5") + "]}");
  SseClient client(dray.port(), "/jobs/" + id + "/events");
  const auto events = readAll(client);
  INFO(describe(events) + dray.log());
  REQUIRE(!events.empty());
  CHECK(events.back().event == "removed");
  CHECK(events.back().json()->getValue<std::string>("id") == id);
  CHECK_FALSE(client.next());
}

TEST_CASE("GET /events: state events of every job, and ?status filters them", "[e2e][events][redis-too]") {
  DrayProcess dray;
  SseClient all(dray.port(), "/events");
  SseClient done(dray.port(), "/events?status=complete");
  REQUIRE(all.status() == 200);
  const std::string a = dray.submit(R"({"name":"a","steps":[)" + scriptStep("echo a") + "]}");
  const std::string b = dray.submit(R"({"name":"b","steps":[)" + scriptStep("exit 1") + "]}");
  std::map<std::string, std::vector<std::string>> states;  // job -> states seen, in order
  while (states[a].empty() || states[a].back() != "complete" || states[b].empty() || states[b].back() != "error") {
    auto event = all.next();
    REQUIRE(event);
    REQUIRE(event->event == "state");
    states[event->json()->getValue<std::string>("id")].push_back(event->json()->getValue<std::string>("state"));
  }
  CHECK(states[a].front() != "complete");  // it was seen before it ended
  auto event = done.next();
  REQUIRE(event);
  CHECK(event->event == "state");
  CHECK(event->json()->getValue<std::string>("id") == a);  // b ended in error: filtered out
  CHECK(event->json()->getValue<std::string>("name") == "a");
  SseClient bad(dray.port(), "/events?status=finished");
  CHECK(bad.status() == 400);
  CHECK_THAT(bad.body(), Catch::Contains("status must be"));
}

TEST_CASE("long-poll: GET /jobs/{id}?wait answers within 100 ms of the job's end", "[e2e][events][redis-too]") {
  DrayProcess dray;
  const std::string id = dray.submit(R"({"steps":[)" + scriptStep("sleep 1.5; echo done") + "]}");
  auto answered = std::async(std::launch::async, [&] {
    auto result = dray.get("/jobs/" + id + "?wait=60");
    return std::make_pair(result, std::chrono::steady_clock::now());
  });
  // A second client polls as fast as it can: the moment it first reads the end is the end.
  std::chrono::steady_clock::time_point ended;
  while (true) {
    auto job = dray.get("/jobs/" + id).json();
    if (job->getValue<std::string>("status") != "running") {
      ended = std::chrono::steady_clock::now();
      break;
    }
    std::this_thread::sleep_for(2ms);
  }
  auto [result, at] = answered.get();
  REQUIRE(result.status == 200);
  CHECK(result.json()->getValue<std::string>("status") == "complete");
  const double late_ms = std::chrono::duration<double, std::milli>(at - ended).count();
  std::printf("long-poll: answered %.1f ms after a 2 ms poller first saw the end\n", late_ms);
  if (!dray::test::sanitized()) CHECK(late_ms < 100);
}

TEST_CASE("long-poll: a job still running is answered after `wait` seconds as it is", "[e2e][events]") {
  DrayProcess dray;
  const std::string id = dray.submit(R"({"steps":[)" + scriptStep("sleep 20") + "]}");
  const auto start = std::chrono::steady_clock::now();
  auto result = dray.get("/jobs/" + id + "?wait=1");
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(result.status == 200);
  CHECK(result.json()->getValue<std::string>("status") == "running");
  std::printf("long-poll: wait=1 answered after %.2f s\n", took);
  CHECK(took >= 0.95);
  if (!dray::test::sanitized()) CHECK(took < 3);
  CHECK(dray.get("/jobs/" + id + "?wait=301").status == 400);
  CHECK(dray.get("/jobs/" + id + "?wait=abc").status == 400);
  CHECK(dray.get("/jobs/" + id + "?wait=0").json()->getValue<std::string>("status") == "running");
  auto unknown = dray.get("/jobs/00000000-0000-0000-0000-000000000000?wait=5");
  CHECK(unknown.status == 404);
}

namespace {

int threadsOf(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("Threads:")) return std::stoi(line.substr(8));
  }
  return -1;
}

}  // namespace

TEST_CASE("400 followers from 8 addresses: every one gets every event, no thread each, the API answers",
          "[e2e][events][load]") {
  DrayProcess dray(EnvMap{{"DRAY_WORKERS", "8"}});
  const int idle_threads = threadsOf(dray.pid());
  const std::string shared = dray.submit(R"({"steps":[)" + scriptStep("echo start; sleep 3; echo done") + "]}");
  std::vector<std::string> jobs;
  for (int i = 0; i < 50; ++i) jobs.push_back(dray.submit(R"({"steps":[)" + scriptStep("echo job") + "]}"));
  std::vector<std::unique_ptr<SseClient>> followers;
  std::vector<std::string> followed;
  for (int i = 0; i < 400; ++i) {
    const std::string source = "127.0.0." + std::to_string(2 + i % 8);  // the per-address cap is 64
    const std::string& id = i < 200 ? shared : jobs[static_cast<std::size_t>(i) % jobs.size()];
    followers.push_back(std::make_unique<SseClient>(dray.port(), "/jobs/" + id + "/events",
                                                    std::map<std::string, std::string>{}, 60s, source));
    REQUIRE(followers.back()->status() == 200);
    followed.push_back(id);
  }
  const int busy_threads = threadsOf(dray.pid());
  const auto asked = std::chrono::steady_clock::now();
  CHECK(dray.get("/healthz").status == 200);
  const double health_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - asked).count();
  std::printf("events: dray had %d threads idle, %d with 400 followers; /healthz took %.1f ms meanwhile\n",
              idle_threads, busy_threads, health_ms);
  CHECK(busy_threads < idle_threads + 40);  // workers' and engine threads come and go; 400 would show
  if (!dray::test::sanitized()) CHECK(health_ms < 1000);
  CHECK_THAT(dray.get("/metrics").body, Catch::Contains("dray_event_followers 40"));  // 400 and some
  for (std::size_t i = 0; i < followers.size(); ++i) {
    const auto events = readAll(*followers[i]);
    INFO("follower " << i << " of job " << followed[i] << "\n" << describe(events));
    REQUIRE(!events.empty());
    REQUIRE(events.back().event == "end");
    CHECK(events.back().json()->getValue<std::string>("status") == "complete");
    const auto lines = logLinesOf(events);
    if (followed[i] == shared) {
      CHECK(lines == std::vector<std::string>{"start", "done"});
    } else {
      CHECK(lines == std::vector<std::string>{"job"});
    }
  }
}

TEST_CASE("a job run by another dray on the same Redis streams through this one's events", "[e2e][events][redis]") {
  dray::test::RedisServer redis;
  const EnvMap shared{{"DRAY_STORAGE", "redis"}, {"REDIS_URL", redis.url()}};
  EnvMap env_a = shared, env_b = shared;
  env_a["DRAY_INSTANCE"] = "node-a-" + std::to_string(::getpid());
  env_b["DRAY_INSTANCE"] = "node-b-" + std::to_string(::getpid());
  DrayProcess a(env_a), b(env_b);
  SseClient all_on_b(b.port(), "/events");
  const std::string id = a.submit(kWordJob);  // runs on A
  SseClient client(b.port(), "/jobs/" + id + "/events");
  const auto events = readAll(client);
  INFO(a.log());
  const auto lines = checkSequentialOrder(events, 3, "complete");
  CHECK(lines == a.logLines(id));
  CHECK(lines.size() == 15);
  // B's all-jobs stream saw A's job end too.
  for (;;) {
    auto event = all_on_b.next();
    REQUIRE(event);
    if (event->event == "state" && event->json()->getValue<std::string>("id") == id &&
        event->json()->getValue<std::string>("state") == "complete")
      break;
  }
  // And B's long-poll answers for it.
  CHECK(b.get("/jobs/" + id + "?wait=5").json()->getValue<std::string>("status") == "complete");
}

TEST_CASE("followers that leave free their connection slots at once, not at the next heartbeat", "[e2e][events]") {
  DrayProcess dray(EnvMap{{"DRAY_MAX_CONNECTIONS_PER_IP", "3"}});
  const std::string id = dray.submit(R"({"steps":[)" + scriptStep("echo up; sleep 30") + "]}");
  for (int round = 0; round < 3; ++round) {
    std::vector<std::unique_ptr<SseClient>> followers;
    for (int i = 0; i < 3; ++i) {
      followers.push_back(std::make_unique<SseClient>(dray.port(), "/jobs/" + id + "/events"));
      INFO("round " << round << ", follower " << i);
      REQUIRE(followers.back()->status() == 200);  // the cap is 3: the last round's are gone
      while (auto event = followers.back()->next()) {
        if (event->event == "log") break;  // parked now, waiting for more
      }
    }
    // They leave; the heartbeat (15 s) is far away. The front polls once a second at most.
    followers.clear();
    REQUIRE(dray::test::waitUntil(
        [&] { return dray.get("/metrics").body.find("dray_event_followers 0") != std::string::npos; }, 3s));
  }
}

TEST_CASE("a client that half-closes after its request still gets a streamed log whole", "[e2e][events]") {
  DrayProcess dray;
  const std::string id = dray.submit(R"({"steps":[)" + scriptStep("seq 1 3000") + "]}");
  REQUIRE(dray.waitForJob(id) == "complete");
  const std::string answer =
      dray::test::rawRequest(dray.port(), "GET /jobs/" + id + "/log HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK_THAT(answer, Catch::StartsWith("HTTP/1.1 200"));
  CHECK_THAT(answer, Catch::Contains("\"2999\",\"3000\"]}"));
  CHECK_THAT(answer, Catch::EndsWith("0\r\n\r\n"));
}
