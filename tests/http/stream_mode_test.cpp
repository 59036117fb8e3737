// Issue 18: stream mode, steps run together like a shell pipe. Real dray, real engine;
// cases tagged [redis-too] also run on Redis storage (DRAY_TEST_STORAGE=redis).
#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/http/script_step.hpp"
#include "tests/support/sse_client.hpp"
#include "tests/support/test_support.hpp"

using dray::test::containersOfJob;
using dray::test::DrayProcess;
using dray::test::scriptStep;
using dray::test::waitUntil;
using namespace std::chrono_literals;

namespace {

std::string streamJob(const std::vector<std::string>& steps, const std::string& extra = "") {
  std::string body = R"({"mode":"stream")" + extra + R"(,"steps":[)";
  for (std::size_t i = 0; i < steps.size(); ++i) body += (i ? "," : "") + steps[i];
  return body + "]}";
}

std::vector<std::string> stepStates(const Poco::JSON::Object::Ptr& job) {
  std::vector<std::string> states;
  auto steps = job->getArray("steps");
  for (std::size_t i = 0; i < steps->size(); ++i) states.push_back(steps->getObject(i)->getValue<std::string>("state"));
  return states;
}

std::vector<std::string> sorted(std::vector<std::string> lines) {
  std::sort(lines.begin(), lines.end());
  return lines;
}

}  // namespace

TEST_CASE("stream mode: the Word Job's words flow through upper and reverse while all three run",
          "[e2e][stream][redis-too]") {
  DrayProcess dray;
  const std::string id =
      dray.submit(streamJob({R"({"source":"dray-test/randword","environment":[{"variable":"WORD_COUNT","value":"5"}]})",
                             R"({"source":"dray-test/upper"})", R"({"source":"dray-test/reverse"})"}));
  // Followed live: every line once, in log order, each step started before it ended, then `end`.
  dray::test::SseClient events(dray.port(), "/jobs/" + id + "/events");
  std::size_t next_index = 0;
  std::map<std::size_t, std::vector<std::string>> step_states;
  std::string end_status;
  while (auto event = events.next()) {
    if (event->event == "log") {
      CHECK(event->json()->getValue<std::size_t>("index") == next_index++);
    } else if (event->event == "step") {
      auto data = event->json();
      step_states[data->getValue<std::size_t>("index")].push_back(data->getValue<std::string>("state"));
    } else if (event->event == "end") {
      end_status = event->json()->getValue<std::string>("status");
      break;
    }
  }
  CHECK(end_status == "complete");
  CHECK(next_index == 15);
  for (std::size_t step = 0; step < 3; ++step) {
    CHECK(step_states[step] == std::vector<std::string>{"running", "complete"});
  }
  REQUIRE(dray.waitForJob(id) == "complete");
  INFO(dray.log());
  auto job = dray.get("/jobs/" + id).json();
  CHECK(job->getValue<std::size_t>("stepsCompleted") == 3);
  CHECK(stepStates(job) == std::vector<std::string>{"complete", "complete", "complete"});
  // Every line of every step is in the log, in arrival order: the five words as the first
  // step printed them, upper-cased by the second, reversed by the third.
  const auto lines = dray.logLines(id);
  REQUIRE(lines.size() == 15);
  std::vector<std::string> words, upper, reversed;
  for (const auto& line : lines) {
    if (std::all_of(line.begin(), line.end(), [](unsigned char c) { return std::islower(c); })) words.push_back(line);
  }
  REQUIRE(words.size() == 5);
  for (auto word : words) {
    std::transform(word.begin(), word.end(), word.begin(), [](unsigned char c) { return std::toupper(c); });
    upper.push_back(word);
    std::reverse(word.begin(), word.end());
    reversed.push_back(word);
  }
  std::vector<std::string> expected = words;
  expected.insert(expected.end(), upper.begin(), upper.end());
  expected.insert(expected.end(), reversed.begin(), reversed.end());
  CHECK(sorted(lines) == sorted(expected));
  std::string output;
  for (const auto& line : reversed) output += line + "\n";
  CHECK(dray.get("/jobs/" + id + "/output").body == output);  // the last step's stdout, in order
  // The steps ran at the same time: each started before the one before it ended.
  auto steps = job->getArray("steps");
  for (std::size_t i = 1; i < 3; ++i) {
    CHECK(steps->getObject(i)->getValue<std::string>("startedAt") <=
          steps->getObject(i - 1)->getValue<std::string>("finishedAt"));
  }
  CHECK(waitUntil([&] { return containersOfJob(id).empty(); }, 30s));
}

TEST_CASE("stream mode: a writer that never stops is stopped once its reader ended, and the job completes",
          "[e2e][stream]") {
  DrayProcess dray;
  // `yes | head -1` in a shell succeeds: so does this job.
  const std::string id = dray.submit(streamJob({scriptStep("yes"), scriptStep("head -1")}));
  REQUIRE(dray.waitForJob(id, 60s) == "complete");
  INFO(dray.log());
  auto job = dray.get("/jobs/" + id).json();
  CHECK(job->getValue<std::size_t>("stepsCompleted") == 1);  // only head exited 0
  CHECK(stepStates(job) == std::vector<std::string>{"canceled", "complete"});
  CHECK(dray.get("/jobs/" + id + "/output").body == "y\n");
  CHECK(waitUntil([&] { return containersOfJob(id).empty(); }, 30s));
}

TEST_CASE("stream mode: a middle step that fails ends the job in error naming it, the others stopped or drained",
          "[e2e][stream][redis-too]") {
  DrayProcess dray(dray::test::EnvMap{{"DRAY_STREAM_DRAIN", "1"}});
  // The first step would run for an hour; the last one never ends on its own after EOF.
  const std::string id =
      dray.submit(streamJob({scriptStep("while true; do echo tick; sleep 0.1; done"),
                             scriptStep("read first; echo got $first; exit 4"), scriptStep("cat; sleep 3600")}));
  REQUIRE(dray.waitForJob(id, 60s) == "error");
  INFO(dray.log());
  auto job = dray.get("/jobs/" + id).json();
  CHECK(stepStates(job) == std::vector<std::string>{"canceled", "error", "canceled"});
  CHECK(job->getArray("steps")->getObject(1)->getValue<int>("exitCode") == 4);
  const auto lines = dray.logLines(id);
  CHECK(std::count(lines.begin(), lines.end(), "got tick") == 2);  // step 2's line, passed on by step 3's cat
  CHECK(std::any_of(lines.begin(), lines.end(), [](const std::string& line) {
    return line.find("step 2") != std::string::npos && line.find("failed: exited with code 4") != std::string::npos;
  }));
  CHECK(waitUntil([&] { return containersOfJob(id).empty(); }, 30s));
}

TEST_CASE("stream mode: a step past its timeout fails the job, named with its timeout", "[e2e][stream]") {
  DrayProcess dray(dray::test::EnvMap{{"DRAY_STREAM_DRAIN", "1"}});
  const std::string id =
      dray.submit(streamJob({scriptStep("echo start"), scriptStep("cat; sleep 3600", R"(,"timeout":1)")}));
  REQUIRE(dray.waitForJob(id, 60s) == "error");
  INFO(dray.log());
  auto job = dray.get("/jobs/" + id).json();
  CHECK(stepStates(job) == std::vector<std::string>{"complete", "error"});
  CHECK(job->getValue<std::size_t>("stepsCompleted") == 1);
  const auto lines = dray.logLines(id);
  CHECK(std::any_of(lines.begin(), lines.end(), [](const std::string& line) {
    return line.find("step 2") != std::string::npos && line.find("failed: timed out after 1 s") != std::string::npos;
  }));
  CHECK(waitUntil([&] { return containersOfJob(id).empty(); }, 30s));
}

TEST_CASE("stream mode: the stderr channel and delimiters apply on the fly, as in sequential mode", "[e2e][stream]") {
  DrayProcess dray;
  const std::vector<std::string> steps{
      scriptStep("echo to-stdout; printf 'noise\\nBEGIN\\npassed on\\nEND\\nnoise\\nBEGIN\\nand this\\nEND\\n' >&2",
                 R"(,"output":"stderr","beginDelimiter":"BEGIN","endDelimiter":"END")"),
      scriptStep("cat")};
  const std::string streamed = dray.submit(streamJob(steps));
  const std::string sequential = dray.submit(R"({"steps":[)" + steps[0] + "," + steps[1] + "]}");
  REQUIRE(dray.waitForJob(streamed) == "complete");
  REQUIRE(dray.waitForJob(sequential) == "complete");
  INFO(dray.log());
  const std::string output = dray.get("/jobs/" + streamed + "/output").body;
  CHECK(output == "passed on\nand this\n");
  CHECK(output == dray.get("/jobs/" + sequential + "/output").body);
}

TEST_CASE("stream mode: cancel stops every step mid-stream and removes every container", "[e2e][stream]") {
  DrayProcess dray;
  const std::string id = dray.submit(
      streamJob({scriptStep("while true; do echo tick; sleep 0.05; done"), scriptStep("cat"), scriptStep("cat")}));
  REQUIRE(waitUntil([&] { return dray.logLines(id).size() >= 6; }, 60s, 50ms));  // ticks flow through
  CHECK(dray.post("/jobs/" + id + "/cancel", "").status == 202);
  REQUIRE(dray.waitForJob(id, 30s) == "canceled");
  auto job = dray.get("/jobs/" + id).json();
  CHECK(stepStates(job) == std::vector<std::string>{"canceled", "canceled", "canceled"});
  CHECK(waitUntil([&] { return containersOfJob(id).empty(); }, 30s));
}

TEST_CASE("stream mode: input, identity variables, secrets and limits work as in sequential mode",
          "[e2e][stream][redis-too]") {
  DrayProcess dray;
  const std::string id = dray.submit(
      R"({"mode":"stream","input":"aGVsbG8K","secrets":[{"variable":"TOKEN","value":"s3cr3t-value"}],"steps":[)" +
      scriptStep("cat; echo step=$DRAY_CURRENT_STEP_INDEX job=$DRAY_JOB_ID; echo token=$TOKEN >&2",
                 R"(,"memory":33554432,"pidsLimit":64)") +
      "," + scriptStep("cat") + "]}");
  REQUIRE(dray.waitForJob(id) == "complete");
  INFO(dray.log());
  CHECK(dray.get("/jobs/" + id + "/output").body == "hello\nstep=0 job=" + id + "\n");
  const auto lines = dray.logLines(id);
  CHECK(std::count(lines.begin(), lines.end(), "token=***") == 1);  // masked in the log
  for (const auto& line : lines) CHECK(line.find("s3cr3t-value") == std::string::npos);
}

TEST_CASE("stream mode refuses what needs a step to end or to start again, naming the step", "[e2e][stream]") {
  DrayProcess dray;
  auto file = dray.post("/jobs", streamJob({scriptStep("echo a"), R"({"source":"dray-test/script","name":"keep",)"
                                                                  R"("output":"/out.txt"})"}));
  CHECK(file.status == 400);
  CHECK(file.json()->getValue<std::string>("error").find("steps[1] (keep).output '/out.txt'") != std::string::npos);
  auto retries = dray.post("/jobs", streamJob({scriptStep("echo a", R"(,"retries":2)")}));
  CHECK(retries.status == 400);
  CHECK(retries.json()->getValue<std::string>("error").find("steps[0].retries") != std::string::npos);
  auto mode = dray.post("/jobs", R"({"mode":"parallel","steps":[{"source":"dray-test/script"}]})");
  CHECK(mode.status == 400);
  CHECK(mode.json()->getValue<std::string>("error").find("job.mode") != std::string::npos);
}

TEST_CASE("stream mode: 1 GiB through 3 steps arrives whole, with dray's memory bounded", "[e2e][stream]") {
  DrayProcess dray;
  const std::string id =
      dray.submit(streamJob({scriptStep("head -c 1073741824 /dev/zero"), scriptStep("cat"), scriptStep("md5sum")}));
  REQUIRE(dray.waitForJob(id, 600s) == "complete");
  INFO(dray.log());
  CHECK(dray.get("/jobs/" + id + "/output").body == dray::test::shell("head -c 1073741824 /dev/zero | md5sum"));
  const std::size_t peak = dray.peakRss();
  INFO("dray's peak RSS: " << peak << " bytes");
  // The pipes hold 256 KiB each, never the stream; the memory storage keeps the first
  // 8 MiB (DRAY_LOG_LIMIT) each of steps 1 and 2 logged.
  CHECK(peak <= (64u << 20));
}
