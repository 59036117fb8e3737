// Issue 16: completion webhooks. Real dray, real engine, a real HTTP receiver on loopback;
// signatures checked with the Standard Webhooks reference library (npm, test-only).
// [memory] cases run on memory storage, [redis] ones on a redis-server of their own.
#include <set>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/http/script_step.hpp"
#include "tests/support/test_support.hpp"
#include "tests/support/webhook_receiver.hpp"

using dray::test::DrayProcess;
using dray::test::EnvMap;
using dray::test::ReceivedWebhook;
using dray::test::scriptStep;
using dray::test::WebhookReceiver;
using namespace std::chrono_literals;

namespace {

// 32 bytes of key, base64: a Standard Webhooks secret.
constexpr const char* kSecret = "whsec_c2VjcmV0LWtleS1vZi10aGlydHktdHdvLWJ5dGVzISE=";
constexpr const char* kServerSecret = "whsec_c2VydmVyLXNpZGUta2V5LW9mLTMyLWJ5dGVzLi4uLi4=";

std::string jobWithCallback(const std::string& url, const std::string& secret = "") {
  std::string callback = R"({"url":")" + url + "\"";
  if (!secret.empty()) callback += R"(,"secret":")" + secret + "\"";
  callback += "}";
  return R"({"name":"hooked","callback":)" + callback + R"(,"steps":[)" + scriptStep("echo hi") + "]}";
}

EnvMap allowLoopback(EnvMap env = {}) {
  env["DRAY_WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1";
  return env;
}

Poco::JSON::Object::Ptr callbackOf(const DrayProcess& dray, const std::string& id) {
  auto job = dray.get("/jobs/" + id).json();
  return job->getObject("callback");
}

bool callbackSettled(const DrayProcess& dray, const std::string& id, bool delivered, unsigned attempts) {
  auto callback = callbackOf(dray, id);
  return callback && callback->getValue<bool>("delivered") == delivered &&
         callback->getValue<unsigned>("attempts") == attempts;
}

}  // namespace

TEST_CASE("a receiver that fails twice then accepts: 3 attempts, one webhook-id, verified signatures",
          "[e2e][webhooks][memory][redis-too]") {
  WebhookReceiver receiver;
  receiver.answerWith({503, 500});
  DrayProcess dray(allowLoopback());
  const std::string id = dray.submit(jobWithCallback(receiver.url("/hook?token=abc"), kSecret));
  REQUIRE(dray.waitForJob(id) == "complete");
  REQUIRE(receiver.waitFor(3, 20s));
  REQUIRE(dray::test::waitUntil([&] { return callbackSettled(dray, id, true, 3); }, 10s));
  const auto deliveries = receiver.received();
  INFO(dray.log());
  REQUIRE(deliveries.size() == 3);
  for (const ReceivedWebhook& delivery : deliveries) {
    CHECK(delivery.path == "/hook?token=abc");
    CHECK(delivery.headers.at("webhook-id") == deliveries[0].headers.at("webhook-id"));
    CHECK(delivery.headers.at("webhook-id").starts_with("msg_"));
    CHECK(delivery.headers.at("x-dray-event") == "job.finished");
    CHECK(delivery.headers.at("content-type") == "application/json");
    CHECK(delivery.headers.at("webhook-signature").starts_with("v1,"));
    auto body = dray::test::HttpResult{200, delivery.body, {}}.json();
    CHECK(body->getValue<std::string>("id") == id);
    CHECK(body->getValue<std::string>("status") == "complete");
    CHECK(body->getValue<std::string>("name") == "hooked");
  }
  std::string verifier;
  INFO(verifier);
  CHECK(dray::test::verifyWithReferenceLibrary(kSecret, deliveries, verifier) == 0);
  CHECK_THAT(verifier, Catch::Contains("delivery 2: verified"));
  // A wrong secret must not verify: the check above is a real one.
  std::string wrong;
  CHECK(dray::test::verifyWithReferenceLibrary(kServerSecret, deliveries, wrong) != 0);
  // Retries come after 1 s, then 2 s.
  const auto first = std::stoll(deliveries[0].headers.at("webhook-timestamp"));
  const auto last = std::stoll(deliveries[2].headers.at("webhook-timestamp"));
  CHECK(last - first >= 2);
  auto callback = callbackOf(dray, id);
  CHECK_FALSE(callback->has("lastError"));
  const std::string metrics = dray.get("/metrics").body;
  CHECK_THAT(metrics, Catch::Contains("dray_webhook_deliveries_total{outcome=\"delivered\"} 1"));
  CHECK_THAT(metrics, Catch::Contains("dray_webhook_retries_total 2"));
  // The secret never reaches a response, the stored job or the log.
  CHECK_THAT(dray.get("/jobs/" + id).body, !Catch::Contains("c2VjcmV0"));
  CHECK_THAT(dray.log(), !Catch::Contains("c2VjcmV0"));
  CHECK_THAT(dray.log(), !Catch::Contains("token=abc"));  // nor the receiver's query
}

TEST_CASE("a receiver that answers 400 gets one attempt, and the record says why",
          "[e2e][webhooks][memory][redis-too]") {
  WebhookReceiver receiver;
  receiver.answerWith({}, 400);
  DrayProcess dray(allowLoopback());
  const std::string id = dray.submit(jobWithCallback(receiver.url()));
  REQUIRE(dray.waitForJob(id) == "complete");
  REQUIRE(dray::test::waitUntil([&] { return callbackSettled(dray, id, false, 1); }, 10s));
  std::this_thread::sleep_for(1500ms);  // longer than the first retry would wait
  CHECK(receiver.received().size() == 1);
  CHECK(receiver.received()[0].headers.count("webhook-signature") == 0);  // no secret, no signature
  CHECK(callbackOf(dray, id)->getValue<std::string>("lastError") == "HTTP 400");
  CHECK_THAT(dray.get("/metrics").body, Catch::Contains("dray_webhook_deliveries_total{outcome=\"refused\"} 1"));
}

TEST_CASE("a redirect is not followed", "[e2e][webhooks][memory]") {
  WebhookReceiver receiver;
  receiver.answerWith({}, 302);
  DrayProcess dray(allowLoopback());
  const std::string id = dray.submit(jobWithCallback(receiver.url()));
  REQUIRE(dray::test::waitUntil([&] { return callbackSettled(dray, id, false, 1); }, 20s));
  CHECK_THAT(callbackOf(dray, id)->getValue<std::string>("lastError"), Catch::Contains("redirects are not followed"));
  CHECK(receiver.received().size() == 1);
}

TEST_CASE("DRAY_WEBHOOK_RETRIES bounds the attempts", "[e2e][webhooks][memory]") {
  WebhookReceiver receiver;
  receiver.answerWith({}, 503);
  DrayProcess dray(allowLoopback({{"DRAY_WEBHOOK_RETRIES", "1"}}));
  const std::string id = dray.submit(jobWithCallback(receiver.url()));
  REQUIRE(dray::test::waitUntil([&] { return callbackSettled(dray, id, false, 2); }, 20s));
  std::this_thread::sleep_for(2500ms);  // a third attempt would have come by now
  CHECK(receiver.received().size() == 2);
  CHECK(callbackOf(dray, id)->getValue<std::string>("lastError") == "HTTP 503");
  CHECK_THAT(dray.get("/metrics").body, Catch::Contains("dray_webhook_deliveries_total{outcome=\"failed\"} 1"));
}

TEST_CASE("DRAY_WEBHOOK_URL receives every job's end, signed with DRAY_WEBHOOK_SECRET", "[e2e][webhooks][memory]") {
  WebhookReceiver receiver;
  DrayProcess dray(EnvMap{{"DRAY_WEBHOOK_URL", receiver.url("/all")}, {"DRAY_WEBHOOK_SECRET", kServerSecret}});
  const std::string ok = dray.submit(R"({"steps":[)" + scriptStep("echo ok") + "]}");
  const std::string bad = dray.submit(R"({"steps":[)" + scriptStep("exit 4") + "]}");
  REQUIRE(receiver.waitFor(2, 30s));
  auto deliveries = receiver.received();
  std::map<std::string, std::string> status_of;
  for (const auto& delivery : deliveries) {
    auto body = dray::test::HttpResult{200, delivery.body, {}}.json();
    status_of[body->getValue<std::string>("id")] = body->getValue<std::string>("status");
  }
  CHECK(status_of[ok] == "complete");
  CHECK(status_of[bad] == "error");
  std::string verifier;
  CHECK(dray::test::verifyWithReferenceLibrary(kServerSecret, deliveries, verifier) == 0);
  INFO(verifier);
  CHECK_FALSE(dray.get("/jobs/" + ok).json()->has("callback"));  // the server's webhook is not the job's
  CHECK_THAT(dray.log(), !Catch::Contains("c2VydmVy"));
}

TEST_CASE("callbacks to hosts that are not allowed, bad URLs and bad secrets are refused at submit",
          "[e2e][webhooks][memory]") {
  DrayProcess dray;  // no DRAY_WEBHOOK_ALLOWED_HOSTS: loopback, private and link-local are refused
  auto refused = [&](const std::string& body, const std::string& expected) {
    auto result = dray.post("/jobs", body);
    INFO(body << " -> " << result.status << " " << result.body);
    CHECK(result.status == 400);
    CHECK_THAT(result.body, Catch::Contains(expected));
  };
  refused(jobWithCallback("http://127.0.0.1:9/hook"), "loopback, link-local or private");
  refused(jobWithCallback("http://169.254.169.254/latest/meta-data"), "loopback, link-local or private");
  refused(jobWithCallback("http://10.1.2.3/"), "loopback, link-local or private");
  refused(jobWithCallback("http://[::1]:9/"), "loopback, link-local or private");
  refused(jobWithCallback("http://localhost:9/"), "loopback, link-local or private");
  refused(jobWithCallback("ftp://example.com/"), "must be an http or https URL");
  refused(jobWithCallback("http://user:pw@example.com/"), "credentials");
  refused(jobWithCallback("http://127.0.0.1:9/", "not-a-secret"), "must start with whsec_");
  refused(jobWithCallback("http://127.0.0.1:9/", "whsec_c2hvcnQ="), "24 to 64 bytes");
  refused(R"({"callback":"http://x/","steps":[{"source":"dray-test/script"}]})", "job.callback must be an object");
  refused(R"({"callback":{"url":"http://x/","retries":3},"steps":[{"source":"dray-test/script"}]})",
          "not a callback field");
  // With the list set, only what it names is allowed.
  DrayProcess listed(EnvMap{{"DRAY_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1, *.hooks.example"}});
  auto accepted = listed.post("/jobs", jobWithCallback("http://127.0.0.1:9/hook", kSecret));
  CHECK(accepted.status == 201);
  CHECK_THAT(accepted.body, Catch::Contains(R"("secret":"***")"));
  CHECK_THAT(accepted.body, !Catch::Contains("c2VjcmV0"));
  auto other = listed.post("/jobs", jobWithCallback("http://10.1.2.3/"));
  CHECK(other.status == 400);
  CHECK_THAT(other.body, Catch::Contains("not in DRAY_WEBHOOK_ALLOWED_HOSTS"));
}

TEST_CASE("a bad DRAY_WEBHOOK_SECRET or URL stops start-up without showing the secret", "[e2e][webhooks][memory]") {
  std::string log;
  CHECK(DrayProcess::runExpectingFailure(
            {{"DRAY_WEBHOOK_URL", "http://127.0.0.1:9/"}, {"DRAY_WEBHOOK_SECRET", "whsec_dG9vLXNob3J0LXNlY3JldA=="}},
            log) != 0);
  CHECK_THAT(log, Catch::Contains("DRAY_WEBHOOK_SECRET"));
  CHECK_THAT(log, !Catch::Contains("dG9vLXNob3J0"));
  CHECK(DrayProcess::runExpectingFailure({{"DRAY_WEBHOOK_URL", "gopher://x/"}}, log) != 0);
  CHECK_THAT(log, Catch::Contains("DRAY_WEBHOOK_URL must be an http or https URL"));
}

TEST_CASE("dray killed with deliveries pending: the next start delivers them, a job-signed one is undeliverable",
          "[e2e][webhooks][redis]") {
  dray::test::RedisServer redis;
  WebhookReceiver receiver;
  receiver.answerWith({}, 503);
  const EnvMap env = allowLoopback({{"DRAY_STORAGE", "redis"},
                                    {"REDIS_URL", redis.url()},
                                    {"DRAY_INSTANCE", "webhook-restart-" + std::to_string(::getpid())},
                                    {"DRAY_WEBHOOK_URL", receiver.url("/all")},
                                    {"DRAY_WEBHOOK_SECRET", kServerSecret}});
  std::string unsigned_job, signed_job;
  {
    DrayProcess first(env);
    unsigned_job = first.submit(jobWithCallback(receiver.url("/plain")));
    signed_job = first.submit(jobWithCallback(receiver.url("/signed"), kSecret));
    REQUIRE(first.waitForJob(unsigned_job) == "complete");
    REQUIRE(first.waitForJob(signed_job) == "complete");
    REQUIRE(receiver.waitFor(4, 20s));  // every delivery tried once, and refused with 503
    CHECK(redis.cli("HLEN jobs:webhooks") == "4\n");
    const std::string outbox = redis.cli("HGETALL jobs:webhooks");
    CHECK_THAT(outbox, Catch::Contains(signed_job));
    CHECK_THAT(outbox, !Catch::Contains("whsec_"));  // the outbox never holds a secret
    CHECK_THAT(outbox, !Catch::Contains("c2VjcmV0"));
    first.kill();  // SIGKILL: nothing is cleaned up
  }
  const auto before = receiver.received();
  receiver.answerWith({}, 200);
  DrayProcess second(env);
  REQUIRE(dray::test::waitUntil(
      [&] {
        auto callback = callbackOf(second, unsigned_job);
        return callback && callback->getValue<bool>("delivered") && callback->getValue<unsigned>("attempts") >= 2;
      },
      20s));
  REQUIRE(dray::test::waitUntil(
      [&] {
        auto callback = callbackOf(second, signed_job);
        return callback && callback->has("lastError") &&
               callback->getValue<std::string>("lastError").starts_with("undeliverable");
      },
      20s));
  REQUIRE(dray::test::waitUntil([&] { return redis.cli("HLEN jobs:webhooks") == "0\n"; }, 20s));
  const auto all = receiver.received();
  INFO(second.log());
  // After the restart: the plain callback and both server deliveries, with their first ids.
  std::map<std::string, int> after_restart;
  for (std::size_t i = before.size(); i < all.size(); ++i) ++after_restart[all[i].headers.at("webhook-id")];
  CHECK(after_restart.size() == 3);
  for (const auto& delivery : before) {
    if (delivery.path == "/signed") {
      CHECK(after_restart.count(delivery.headers.at("webhook-id")) == 0);  // its secret was lost
    } else {
      CHECK(after_restart.count(delivery.headers.at("webhook-id")) == 1);  // the same delivery, again
    }
  }
  std::vector<ReceivedWebhook> server_deliveries;
  for (const auto& delivery : all) {
    if (delivery.path == "/all") server_deliveries.push_back(delivery);
  }
  std::string verifier;
  CHECK(dray::test::verifyWithReferenceLibrary(kServerSecret, server_deliveries, verifier) == 0);
  INFO(verifier);
  CHECK_THAT(second.log(), Catch::Contains("undeliverable"));
}

TEST_CASE("a job canceled while it waits in the nodes' shared queue still sends its webhooks",
          "[e2e][webhooks][redis]") {
  dray::test::RedisServer redis;
  WebhookReceiver receiver;
  DrayProcess dray(allowLoopback({{"DRAY_STORAGE", "redis"},
                                  {"REDIS_URL", redis.url()},
                                  {"DRAY_WORKERS", "1"},
                                  {"DRAY_WEBHOOK_URL", receiver.url("/all")},
                                  {"DRAY_WEBHOOK_SECRET", kServerSecret}}));
  // The one worker is busy: the second job waits in the shared queue, and is canceled there.
  const std::string busy = dray.submit(R"({"steps":[)" + scriptStep("sleep 30") + "]}");
  REQUIRE(dray::test::waitUntil(
      [&] { return dray.get("/jobs/" + busy).json()->getValue<std::string>("state") == "running"; }, 30s));
  const std::string waiting = dray.submit(jobWithCallback(receiver.url("/job")));
  REQUIRE(dray.get("/jobs/" + waiting).json()->getValue<std::string>("state") == "queued");
  REQUIRE(dray.post("/jobs/" + waiting + "/cancel", "").status == 202);
  REQUIRE(receiver.waitFor(2, 30s));  // the server's webhook and the job's callback
  std::set<std::string> paths;
  for (const auto& delivery : receiver.received()) {
    auto body = dray::test::HttpResult{200, delivery.body, {}}.json();
    CHECK(body->getValue<std::string>("id") == waiting);
    CHECK(body->getValue<std::string>("status") == "canceled");
    paths.insert(delivery.path);
  }
  CHECK(paths == std::set<std::string>{"/all", "/job"});
  CHECK(dray.post("/jobs/" + busy + "/cancel", "").status == 202);
}
