#include "core/job_codec.hpp"

#include <catch2/catch.hpp>

#include "core/errors.hpp"

using dray::core::decodeJob;
using dray::core::ValidationError;

namespace {

std::string errorOf(const std::string& body) {
  try {
    decodeJob(body);
  } catch (const ValidationError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a full job decodes with defaults", "[core][codec]") {
  auto decoded = decodeJob(R"({"name":"Word Job","environment":[{"variable":"A","value":"1"}],
    "steps":[{"source":"x/randword","environment":[{"variable":"WORD_COUNT","value":"10"}]},
             {"name":"up","source":"x/upper","output":"stderr","refresh":true},
             {"source":"x/rev","output":"/out.txt","beginDelimiter":"BEGIN","endDelimiter":"END"}]})");
  const auto& job = decoded.definition;
  CHECK(job.name == "Word Job");
  REQUIRE(job.environment.size() == 1);
  CHECK(job.environment[0].name == "A");
  REQUIRE(job.steps.size() == 3);
  CHECK(job.steps[0].output == "stdout");
  CHECK_FALSE(job.steps[0].refresh);
  CHECK(job.steps[0].environment[0].value == "10");
  CHECK(job.steps[1].name == "up");
  CHECK(job.steps[1].output == "stderr");
  CHECK(job.steps[1].refresh);
  CHECK(job.steps[2].begin_delimiter == "BEGIN");
  CHECK(job.steps[2].end_delimiter == "END");
}

TEST_CASE("bad jobs are rejected with a message naming the problem", "[core][codec]") {
  CHECK(errorOf("") == "request body is empty; expected a job as JSON");
  CHECK_THAT(errorOf("{"), Catch::StartsWith("request body is not valid JSON"));
  CHECK_THAT(errorOf("[1,2]"), Catch::Contains("must be a JSON object"));
  CHECK_FALSE(errorOf("\"steps\"").empty());  // a bare scalar is no job either
  CHECK_THAT(errorOf("{}"), Catch::Contains("non-empty steps"));
  CHECK_THAT(errorOf(R"({"steps":[]})"), Catch::Contains("non-empty steps"));
  CHECK_THAT(errorOf(R"({"steps":{}})"), Catch::Contains("job.steps must be an array"));
  CHECK_THAT(errorOf(R"({"steps":[{}]})"), Catch::Contains("steps[0] needs a source"));
  CHECK_THAT(errorOf(R"({"steps":[{"source":""}]})"), Catch::Contains("steps[0] needs a source"));
  CHECK_THAT(errorOf(R"({"steps":[{"source":5}]})"), Catch::Contains("steps[0].source must be a string"));
  CHECK_THAT(errorOf(R"({"steps":[1]})"), Catch::Contains("steps[0] must be an object"));
  CHECK_THAT(errorOf(R"({"steps":[{"source":"a","refresh":"yes"}]})"),
             Catch::Contains("refresh must be true or false"));
  CHECK_THAT(errorOf(R"({"steps":[{"source":"a","output":""}]})"), Catch::Contains("output must not be empty"));
  CHECK_THAT(errorOf(R"({"steps":[{"source":"a","beginDelimiter":"B"}]})"),
             Catch::Contains("both beginDelimiter and endDelimiter"));
  CHECK_THAT(errorOf(R"({"name":7,"steps":[{"source":"a"}]})"), Catch::Contains("job.name must be a string"));
}

TEST_CASE("environment entries need a variable and a string value", "[core][codec]") {
  CHECK_THAT(errorOf(R"({"environment":[{"value":"1"}],"steps":[{"source":"a"}]})"),
             Catch::Contains("job.environment[0] needs a non-empty variable"));
  CHECK_THAT(errorOf(R"({"steps":[{"source":"a","environment":[{"variable":"A","value":1}]}]})"),
             Catch::Contains("steps[0].environment[0].value must be a string"));
  CHECK_THAT(errorOf(R"({"steps":[{"source":"a","environment":["A=1"]}]})"),
             Catch::Contains("steps[0].environment[0] must be an object"));
  CHECK_THAT(errorOf(R"({"environment":{"A":"1"},"steps":[{"source":"a"}]})"),
             Catch::Contains("job.environment must be an array"));
  CHECK_THAT(errorOf(R"({"environment":[{"variable":"A=B","value":"1"}],"steps":[{"source":"a"}]})"),
             Catch::Contains("must not contain '='"));
}

TEST_CASE("limits keep one request small", "[core][codec]") {
  std::string steps;
  for (std::size_t i = 0; i <= dray::core::kMaxSteps; ++i) steps += std::string(i ? "," : "") + R"({"source":"a"})";
  CHECK_THAT(errorOf(R"({"steps":[)" + steps + "]}"), Catch::Contains("more than 256 steps"));
  std::string huge(dray::core::kMaxStringLength + 1, 'x');
  CHECK_THAT(errorOf(R"({"steps":[{"source":")" + huge + R"("}]})"), Catch::Contains("longer than"));
}

TEST_CASE("the created job echoes the document with id first", "[core][codec]") {
  auto decoded = decodeJob(R"({"name":"n","steps":[{"source":"a"}],"extra":{"k":[1,2]}})");
  std::string echo = dray::core::encodeCreatedJob(decoded.document, "ID-1");
  CHECK(echo == R"({"id":"ID-1","name":"n","steps":[{"source":"a"}],"extra":{"k":[1,2]}})");
}

TEST_CASE("unicode survives the echo", "[core][codec]") {
  auto decoded = decodeJob(R"({"name":"Wörter ✓","steps":[{"source":"a"}]})");
  CHECK(decoded.definition.name == "Wörter ✓");
  CHECK_THAT(dray::core::encodeCreatedJob(decoded.document, "X"), Catch::Contains("Wörter ✓"));
}

TEST_CASE("secrets decode like environment, and the document only shows ***", "[core][codec][secrets]") {
  auto decoded =
      decodeJob(R"({"secrets":[{"variable":"TOKEN","value":"s3cr3t-value"},{"variable":"KEY","value":"line1\nline2"}],
    "steps":[{"source":"x"}]})");
  REQUIRE(decoded.definition.secrets.size() == 2);
  CHECK(decoded.definition.secrets[0].name == "TOKEN");
  CHECK(decoded.definition.secrets[0].value == "s3cr3t-value");
  CHECK(decoded.definition.secrets[1].value == "line1\nline2");
  const std::string echo = dray::core::encodeCreatedJob(decoded.document, "ID");
  CHECK(echo == R"({"id":"ID","secrets":[{"variable":"TOKEN","value":"***"},{"variable":"KEY","value":"***"}],)"
                R"("steps":[{"source":"x"}]})");
}

TEST_CASE("bad secrets are rejected like bad environment entries", "[core][codec][secrets]") {
  using Catch::Contains;
  const std::string steps = R"(,"steps":[{"source":"x"}]})";
  CHECK_THAT(errorOf(R"({"secrets":[{"variable":"T","value":"abc"}])" + steps),
             Contains("secrets[0].value must be at least 4 bytes"));
  CHECK_THAT(errorOf(R"({"secrets":[{"variable":"T","value":""}])" + steps), Contains("at least 4 bytes"));
  CHECK_THAT(errorOf(R"({"secrets":[{"variable":"T"}])" + steps), Contains("at least 4 bytes"));
  CHECK_THAT(errorOf(R"({"secrets":[{"value":"abcd"}])" + steps),
             Contains("job.secrets[0] needs a non-empty variable"));
  CHECK_THAT(errorOf(R"({"secrets":[{"variable":"A=B","value":"abcd"}])" + steps), Contains("must not contain '='"));
  CHECK_THAT(errorOf(R"({"secrets":[{"variable":"T","value":1234}])" + steps),
             Contains("job.secrets[0].value must be a string"));
  CHECK_THAT(errorOf(R"({"secrets":{"variable":"T"})" + steps), Contains("job.secrets must be an array"));
  CHECK_THAT(errorOf(R"({"secrets":["x"])" + steps), Contains("job.secrets[0] must be an object"));
  std::string many = R"({"secrets":[)";
  for (std::size_t i = 0; i <= dray::core::kMaxEnvVars; ++i)
    many += std::string(i ? "," : "") + R"({"variable":"V","value":"abcd"})";
  CHECK_THAT(errorOf(many + "]" + steps), Contains("job.secrets has more than 1024 entries"));
  CHECK_THAT(errorOf(R"({"steps":[{"source":"x","secrets":[{"variable":"T","value":"abcd"}]}]})"),
             Contains("steps[0].secrets is not supported: secrets belong to the job"));
  const std::string big(dray::core::kMaxStringLength + 1, 'v');
  CHECK_THAT(errorOf(R"({"secrets":[{"variable":"T","value":")" + big + R"("}])" + steps), Contains("longer than"));
}

TEST_CASE("job input is standard padded base64 and anything else is refused", "[core][codec][input]") {
  CHECK(dray::core::decodeJob(R"({"input":"aGVsbG8K","steps":[{"source":"a"}]})").definition.input == "hello\n");
  CHECK(dray::core::decodeJob(R"({"input":"AP8=","steps":[{"source":"a"}]})").definition.input ==
        std::string("\0\xff", 2));
  CHECK(dray::core::decodeJob(R"({"input":"","steps":[{"source":"a"}]})").definition.input.empty());
  CHECK(dray::core::decodeJob(R"({"steps":[{"source":"a"}]})").definition.input.empty());
  for (const std::string bad : {"aGVsbG8", "aGVs bG8K", "aGVsbG8K=", "a===", "aGV-bG8_", "#!", "aGVsbG8K\\n"}) {
    INFO(bad);
    CHECK_THROWS_WITH(dray::core::decodeJob(R"({"input":")" + bad + R"(","steps":[{"source":"a"}]})"),
                      Catch::Contains("job.input is not valid base64"));
  }
  CHECK_THROWS_AS(dray::core::decodeJob(R"({"input":5,"steps":[{"source":"a"}]})"), dray::core::ValidationError);
}

TEST_CASE("retries and resources are checked at their edges", "[core][codec][retries]") {
  auto step = [](const std::string& fields) {
    return dray::core::decodeJob(R"({"steps":[{"source":"a",)" + fields + "}]}").definition.steps[0];
  };
  CHECK(step(R"("retries":0)").retries == 0);
  CHECK(step(R"("retries":10)").retries == 10);
  CHECK_THROWS_WITH(step(R"("retries":11)"), Catch::Contains("steps[0].retries must be a whole number from 0 to 10"));
  CHECK_THROWS_AS(step(R"("retries":-1)"), dray::core::ValidationError);
  CHECK_THROWS_AS(step(R"("retries":1.5)"), dray::core::ValidationError);
  CHECK(step(R"("retryBackoff":2)").retry_backoff == 2);
  CHECK(step(R"("retryBackoff":0)").retry_backoff_max == 300);
  CHECK(step(R"("retryBackoffMax":5)").retry_backoff_max == 5);
  CHECK_THROWS_AS(step(R"("retryBackoff":-1)"), dray::core::ValidationError);
  CHECK(step(R"("memory":6291456)").resources.memory == 6291456);
  CHECK_THROWS_AS(step(R"("memory":-5)"), dray::core::ValidationError);
  CHECK(step(R"("cpus":0.25)").resources.nano_cpus == 250'000'000);
  CHECK_THROWS_AS(step(R"("cpus":0)"), dray::core::ValidationError);
  CHECK_THROWS_AS(step(R"("cpus":"1")"), dray::core::ValidationError);
  CHECK_THROWS_AS(step(R"("networkMode":5)"), dray::core::ValidationError);
  CHECK(step(R"("cpuShares":1024)").resources.cpu_shares == 1024);
  CHECK(step(R"("pidsLimit":64)").resources.pids_limit == 64);
}

TEST_CASE("rerunOnNodeLoss is a boolean, false unless given", "[core][codec]") {
  CHECK_FALSE(decodeJob(R"({"steps":[{"source":"a"}]})").definition.rerun_on_node_loss);
  CHECK(decodeJob(R"({"rerunOnNodeLoss":true,"steps":[{"source":"a"}]})").definition.rerun_on_node_loss);
  CHECK_THROWS_WITH(decodeJob(R"({"rerunOnNodeLoss":"yes","steps":[{"source":"a"}]})"),
                    "job.rerunOnNodeLoss must be true or false");
}
