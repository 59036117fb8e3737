#include <catch2/catch.hpp>

#include "core/webhook_policy.hpp"
#include "core/webhook_signature.hpp"

using namespace dray::core;

TEST_CASE("webhook signatures match the Standard Webhooks reference vector", "[unit][webhooks]") {
  // The vector the spec's reference libraries test with (checked against npm standardwebhooks 1.1.1).
  const std::string key = webhookKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  CHECK(key.size() == 24);
  CHECK(webhookSignature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})") ==
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  // Any change of id, time or body changes it.
  CHECK(webhookSignature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, R"({"test": 2432232314})") !=
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST_CASE("webhook secrets must be whsec_ and base64 of a 24 to 64 byte key", "[unit][webhooks]") {
  CHECK_THROWS_WITH(webhookKey("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "must start with whsec_");
  CHECK_THROWS_WITH(webhookKey("whsec_not base64!"), "must be whsec_ followed by standard base64");
  CHECK_THROWS_WITH(webhookKey("whsec_c2hvcnQ="), "must hold a key of 24 to 64 bytes");
  CHECK_THROWS_WITH(webhookKey("whsec_" + std::string(88, 'A')), "must hold a key of 24 to 64 bytes");  // 66 bytes
  CHECK(webhookKey("whsec_" + std::string(86, 'A') + "==").size() == 64);
  CHECK(webhookKey("whsec_" + std::string(32, 'A')).size() == 24);
}

TEST_CASE("webhook targets: public hosts pass, private and special addresses need listing", "[unit][webhooks]") {
  const WebhookPolicy open;
  CHECK(open.refusal("https://93.184.215.14/hook").empty());  // a public address literal: no lookup
  for (const char* url :
       {"http://127.0.0.1/", "http://127.1.2.3:8080/", "http://10.0.0.1/", "http://172.16.5.4/", "http://192.168.1.1/",
        "http://169.254.169.254/", "http://0.0.0.0/", "http://100.64.0.1/", "http://[::1]/", "http://[fe80::1]/",
        "http://[fd00::1]/", "http://[::ffff:10.0.0.1]/", "http://224.0.0.1/"}) {
    INFO(url);
    CHECK_THAT(open.refusal(url), Catch::Contains("loopback, link-local or private"));
  }
  CHECK_THAT(open.refusal("ftp://example.com/"), Catch::Contains("http or https"));
  CHECK_THAT(open.refusal("http:///path"), Catch::Contains("no host"));
  CHECK_THAT(open.refusal("http://u:p@93.184.215.14/"), Catch::Contains("credentials"));
  CHECK_THAT(open.refusal("http://no-such-host.invalid/"), Catch::Contains("does not resolve"));

  const WebhookPolicy listed(WebhookPolicy::splitSetting(" 127.0.0.1 ,*.Internal.example,"));
  CHECK(listed.refusal("http://127.0.0.1:9/").empty());
  CHECK(listed.refusal("http://hooks.internal.example/").empty());  // listed names are not looked up
  CHECK_THAT(listed.refusal("http://10.0.0.1/"), Catch::Contains("not in DRAY_WEBHOOK_ALLOWED_HOSTS"));
  CHECK_THAT(listed.refusal("https://93.184.215.14/"), Catch::Contains("not in DRAY_WEBHOOK_ALLOWED_HOSTS"));
}
