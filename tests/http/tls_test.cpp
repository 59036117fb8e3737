// Issue #12, TLS half, end to end: HTTPS with DRAY_TLS_CERT/DRAY_TLS_KEY, client
// certificates with DRAY_TLS_CLIENT_CA, dray-cli over HTTPS with a token, and refused
// start-ups for unusable TLS files. Certificates are made per test with the openssl CLI.
#include <catch2/catch.hpp>

#include "tests/http/auth_fixture.hpp"
#include "tests/support/test_support.hpp"

using dray::test::DrayProcess;
using dray::test::EnvMap;
using dray::test::TempDir;
using namespace std::chrono_literals;
using namespace dray::test::auth;

namespace {

// A CA, a server certificate for 127.0.0.1/localhost and a client certificate signed by it,
// and a self-signed client certificate no CA vouches for. Made with the openssl CLI.
struct TestPki {
  TempDir dir;
  std::string path(const std::string& name) const { return dir.path() + "/" + name; }

  TestPki() {
    writeFile(dir, "ca.cnf",
              "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = dray test CA\n"
              "[v3_ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n"
              "subjectKeyIdentifier = hash\n");
    writeFile(
        dir, "server.ext",
        "subjectAltName = IP:127.0.0.1,DNS:localhost\nextendedKeyUsage = serverAuth\nbasicConstraints = CA:FALSE\n");
    writeFile(dir, "client.ext", "extendedKeyUsage = clientAuth\nbasicConstraints = CA:FALSE\n");
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    run("openssl req -x509 -config ca.cnf -extensions v3_ca " + key + " -keyout ca.key -out ca.pem -days 2");
    for (const std::string name : {"server", "client"}) {
      run("openssl req -new " + key + " -keyout " + name + ".key -out " + name +
          ".csr -subj /CN=" + (name == "server" ? "127.0.0.1" : "dray-test-client"));
      run("openssl x509 -req -in " + name + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile " + name +
          ".ext -out " + name + ".pem");
    }
    run("openssl req -x509 " + key + " -keyout intruder.key -out intruder.pem -days 2 -subj /CN=intruder");
    writeFile(dir, "garbage.pem", "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
  }

  void run(const std::string& command) const {
    int status = -1;
    std::string out = dray::test::shell("cd " + dir.path() + " && " + command + " 2>&1", &status);
    INFO(command << "\n" << out);
    REQUIRE(status == 0);
  }

  EnvMap serverEnv(bool client_certificates) const {
    EnvMap env{
        {"DRAY_LISTEN", "127.0.0.1"}, {"DRAY_TLS_CERT", path("server.pem")}, {"DRAY_TLS_KEY", path("server.key")}};
    if (client_certificates) env["DRAY_TLS_CLIENT_CA"] = path("ca.pem");
    return env;
  }
};

struct CommandResult {
  int status;
  std::string out;  // stdout and stderr
};

CommandResult command(const std::string& line) {
  CommandResult result{-1, ""};
  result.out = dray::test::shell(line + " 2>&1", &result.status);
  return result;
}

// curl's HTTP status for `path` (000 when no HTTP answer came) after its exit status.
CommandResult curl(const DrayProcess& dray, const std::string& options, const std::string& path = "/healthz") {
  return command("curl -sS --max-time 20 -o /dev/null -w '%{http_code}' " + options +
                 " https://127.0.0.1:" + std::to_string(dray.port()) + path);
}

// dray-cli with a clean environment apart from `env` (DRAY_TOKEN, DRAY_URL of the caller's own shell left out).
CommandResult cli(const DrayProcess& dray, const std::string& arguments, const std::string& env = "") {
  return command("env -u DRAY_TOKEN -u DRAY_URL " + env + " " + dray::test::cliBinary() +
                 " --url https://127.0.0.1:" + std::to_string(dray.port()) + " " + arguments);
}

}  // namespace

TEST_CASE("with DRAY_TLS_CERT and DRAY_TLS_KEY dray speaks HTTPS only", "[http][e2e][auth][tls]") {
  TestPki pki;
  EnvMap env = pki.serverEnv(false);
  env["DRAY_TOKEN"] = kAdminToken;
  DrayProcess dray(env);
  INFO(dray.log());
  CHECK(contains(dray.log(), "(https)"));

  auto healthy = curl(dray, "--cacert " + pki.path("ca.pem"));
  INFO(healthy.out);
  CHECK(healthy.status == 0);
  CHECK(healthy.out == "200");
  CHECK(curl(dray, "--cacert " + pki.path("ca.pem"), "/jobs").out == "401");
  CHECK(curl(dray, "--cacert " + pki.path("ca.pem") + " -H 'Authorization: Bearer " + kAdminToken + "'", "/jobs").out ==
        "200");
  // The name in the URL is checked too: localhost is in the certificate, 127.0.0.2 is not.
  CHECK(command("curl -sS --max-time 20 -o /dev/null --cacert " + pki.path("ca.pem") +
                " --resolve localhost:" + std::to_string(dray.port()) +
                ":127.0.0.1 https://localhost:" + std::to_string(dray.port()) + "/healthz")
            .status == 0);
  // Without the CA, curl cannot verify the certificate (60: peer certificate not verified).
  auto unverified = curl(dray, "");
  INFO(unverified.out);
  CHECK(unverified.status == 60);
  // Plain HTTP to the TLS port gets no HTTP answer, and dray carries on.
  std::string plain = dray::test::rawRequest(dray.port(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  CHECK(plain.rfind("HTTP/", 0) == std::string::npos);
  CHECK_FALSE(contains(plain, "200"));
  CHECK(curl(dray, "--cacert " + pki.path("ca.pem")).out == "200");
  // Client certificates are not asked for: one is simply not needed.
  CHECK(curl(dray, "--cacert " + pki.path("ca.pem") + " --cert " + pki.path("client.pem") + " --key " +
                       pki.path("client.key"))
            .out == "200");
}

TEST_CASE("with DRAY_TLS_CLIENT_CA only clients with a certificate from that CA get in", "[http][e2e][auth][tls]") {
  TestPki pki;
  DrayProcess dray(pki.serverEnv(true));
  INFO(dray.log());
  CHECK(contains(dray.log(), "client certificates required"));
  const std::string ca = "--cacert " + pki.path("ca.pem");

  auto without = curl(dray, ca);
  INFO(without.out);
  CHECK(without.status != 0);
  CHECK_FALSE(contains(without.out, "200"));
  auto stranger = curl(dray, ca + " --cert " + pki.path("intruder.pem") + " --key " + pki.path("intruder.key"));
  INFO(stranger.out);
  CHECK(stranger.status != 0);
  CHECK_FALSE(contains(stranger.out, "200"));
  auto with = curl(dray, ca + " --cert " + pki.path("client.pem") + " --key " + pki.path("client.key"));
  INFO(with.out);
  CHECK(with.status == 0);
  CHECK(with.out == "200");
}

TEST_CASE("dray-cli talks HTTPS with --cacert and a bearer token and a client certificate", "[http][e2e][auth][tls]") {
  TestPki pki;
  TempDir dir;
  const std::string token_file = writeFile(dir, "token", kAliceToken + "\n", 0600);
  const std::string job_file = writeFile(dir, "job.json", kQuickJob);
  const std::string ca = "--cacert " + pki.path("ca.pem");
  const std::string client = " --cert " + pki.path("client.pem") + " --key " + pki.path("client.key");
  EnvMap env = authEnv(dir);
  for (auto& [key, value] : pki.serverEnv(true)) env[key] = value;
  DrayProcess dray(env);
  INFO(dray.log());

  auto submitted = cli(dray, ca + client + " --token-file " + token_file + " submit " + job_file + " --wait");
  INFO(submitted.out);
  REQUIRE(submitted.status == 0);
  const std::string id = submitted.out.substr(0, 36);
  auto listed = cli(dray, ca + client + " --token-file " + token_file + " ls");
  INFO(listed.out);
  CHECK(listed.status == 0);
  CHECK(contains(listed.out, id));
  auto from_env = cli(dray, ca + client + " status " + id + " --json", "DRAY_TOKEN=" + kReaderToken);
  INFO(from_env.out);
  CHECK(from_env.status == 0);
  CHECK(contains(from_env.out, R"("creator":"alice")"));
  // --token-file wins over DRAY_TOKEN.
  CHECK(cli(dray, ca + client + " --token-file " + token_file + " ls", "DRAY_TOKEN=" + kBobToken).out == listed.out);

  auto no_token = cli(dray, ca + client + " ls");
  INFO(no_token.out);
  CHECK(no_token.status == 3);
  CHECK(contains(no_token.out, "HTTP 401"));
  auto read_only = cli(dray, ca + client + " submit " + job_file, "DRAY_TOKEN=" + kReaderToken);
  CHECK(read_only.status == 3);
  CHECK(contains(read_only.out, "HTTP 403"));
  auto no_ca = cli(dray, client + " --token-file " + token_file + " ls");
  INFO(no_ca.out);
  CHECK(no_ca.status == 3);
  CHECK_FALSE(contains(no_ca.out, id));
  auto no_certificate = cli(dray, ca + " --token-file " + token_file + " ls");
  INFO(no_certificate.out);
  CHECK(no_certificate.status == 3);
  CHECK_FALSE(contains(no_certificate.out, id));
  CHECK(cli(dray, ca + " --cert " + pki.path("client.pem") + " ls").status == 64);  // --cert needs --key
  for (const auto& run : {submitted, listed, from_env, no_token, read_only})
    CHECK_FALSE(contains(run.out, kAliceToken));
}

TEST_CASE("unusable TLS settings stop start-up with a clear message", "[http][auth][tls]") {
  TestPki pki;
  struct Case {
    const char* what;
    EnvMap env;
    std::string expected;
  };
  const std::vector<Case> cases{
      {"a certificate without a key",
       {{"DRAY_TLS_CERT", pki.path("server.pem")}},
       "DRAY_TLS_CERT and DRAY_TLS_KEY go together"},
      {"a key without a certificate",
       {{"DRAY_TLS_KEY", pki.path("server.key")}},
       "DRAY_TLS_CERT and DRAY_TLS_KEY go together"},
      {"a client CA without TLS", {{"DRAY_TLS_CLIENT_CA", pki.path("ca.pem")}}, "DRAY_TLS_CLIENT_CA needs"},
      {"a missing certificate",
       {{"DRAY_TLS_CERT", pki.path("nothing.pem")}, {"DRAY_TLS_KEY", pki.path("server.key")}},
       "cannot set up TLS"},
      {"a certificate that is not PEM",
       {{"DRAY_TLS_CERT", pki.path("garbage.pem")}, {"DRAY_TLS_KEY", pki.path("server.key")}},
       "cannot set up TLS"},
      {"a missing key",
       {{"DRAY_TLS_CERT", pki.path("server.pem")}, {"DRAY_TLS_KEY", pki.path("nothing.key")}},
       "cannot set up TLS"},
      {"a key of another certificate",
       {{"DRAY_TLS_CERT", pki.path("server.pem")}, {"DRAY_TLS_KEY", pki.path("client.key")}},
       "cannot set up TLS"},
      {"a missing client CA",
       {{"DRAY_TLS_CERT", pki.path("server.pem")},
        {"DRAY_TLS_KEY", pki.path("server.key")},
        {"DRAY_TLS_CLIENT_CA", pki.path("nothing.pem")}},
       "cannot set up TLS"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    EnvMap env = c.env;
    env["DRAY_LISTEN"] = "127.0.0.1";
    std::string log;
    int code = DrayProcess::runExpectingFailure(env, log);
    INFO(log);
    CHECK(code != 0);
    CHECK(code != -1);
    CHECK_THAT(log, Catch::Contains("dray cannot start") && Catch::Contains(c.expected));
    CHECK_FALSE(contains(log, "dray listening"));
  }
}
