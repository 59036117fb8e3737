#include "core/job_codec.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <sstream>

#include <Poco/Base64Decoder.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include "core/errors.hpp"
#include "core/secret_masker.hpp"
#include "core/webhook_policy.hpp"
#include "core/webhook_signature.hpp"

namespace dray::core {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

[[noreturn]] void reject(const std::string& message) { throw ValidationError(message); }

std::string optionalString(const Object& object, const std::string& key, const std::string& where,
                           const std::string& fallback = "") {
  if (!object.has(key) || object.isNull(key)) return fallback;
  Poco::Dynamic::Var value = object.get(key);
  if (!value.isString()) reject(where + "." + key + " must be a string");
  std::string text = value.extract<std::string>();
  if (text.size() > kMaxStringLength) {
    reject(where + "." + key + " is longer than " + std::to_string(kMaxStringLength) + " bytes");
  }
  return text;
}

bool optionalBool(const Object& object, const std::string& key, const std::string& where) {
  if (!object.has(key) || object.isNull(key)) return false;
  Poco::Dynamic::Var value = object.get(key);
  if (value.type() != typeid(bool)) reject(where + "." + key + " must be true or false");
  return value.extract<bool>();
}

// A number of seconds: positive, at most kMaxSeconds; 0 when absent.
double optionalSeconds(const Object& object, const std::string& key, const std::string& where) {
  if (!object.has(key) || object.isNull(key)) return 0;
  Poco::Dynamic::Var value = object.get(key);
  if (!value.isNumeric()) reject(where + "." + key + " must be a number of seconds");
  double seconds = value.convert<double>();
  if (!(seconds > 0) || seconds > kMaxSeconds) {
    reject(where + "." + key + " must be more than 0 and at most " + std::to_string(static_cast<long>(kMaxSeconds)) +
           " seconds");
  }
  return seconds;
}

// A whole number in [min, max]; `fallback` when absent.
std::int64_t optionalInteger(const Object& object, const std::string& key, const std::string& where, std::int64_t min,
                             std::int64_t max, std::int64_t fallback = 0) {
  if (!object.has(key) || object.isNull(key)) return fallback;
  Poco::Dynamic::Var value = object.get(key);
  const std::string range = " from " + std::to_string(min) + " to " + std::to_string(max);
  if (!value.isNumeric()) reject(where + "." + key + " must be a whole number" + range);
  const double number = value.convert<double>();
  if (!(number >= static_cast<double>(min) && number <= static_cast<double>(max)) ||
      number != static_cast<double>(static_cast<std::int64_t>(number))) {
    reject(where + "." + key + " must be a whole number" + range);
  }
  return static_cast<std::int64_t>(number);
}

// A non-negative number of seconds (0 allowed), at most kMaxSeconds; `fallback` when absent.
double optionalDelay(const Object& object, const std::string& key, const std::string& where, double fallback) {
  if (!object.has(key) || object.isNull(key)) return fallback;
  Poco::Dynamic::Var value = object.get(key);
  if (!value.isNumeric()) reject(where + "." + key + " must be a number of seconds");
  double seconds = value.convert<double>();
  if (!(seconds >= 0) || seconds > kMaxSeconds) {
    reject(where + "." + key + " must be from 0 to " + std::to_string(static_cast<long>(kMaxSeconds)) + " seconds");
  }
  return seconds;
}

// Standard base64 with padding, as the production fork's clients send it. Checked strictly
// first: Poco's decoder skips characters it does not know.
std::string decodeInput(const Object& document) {
  if (!document.has("input") || document.isNull("input")) return "";
  Poco::Dynamic::Var value = document.get("input");
  if (!value.isString()) reject("job.input must be a string of base64");
  const std::string text = value.extract<std::string>();
  const auto invalid = [] { reject("job.input is not valid base64 (standard alphabet, padded with '=')"); };
  if (text.size() % 4 != 0) invalid();
  const std::size_t padding = text.size() - std::min(text.size(), text.find_last_not_of('=') + 1);
  if (padding > 2) invalid();
  for (std::size_t i = 0; i + padding < text.size(); ++i) {
    const char c = text[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/') invalid();
  }
  std::istringstream in(text);
  Poco::Base64Decoder decoder(in);
  return std::string(std::istreambuf_iterator<char>(decoder), std::istreambuf_iterator<char>());
}

// The fork's resource fields plus ours (cpus, pidsLimit); 0 = not asked.
sdk::Resources decodeResources(const Object& step, const std::string& where) {
  constexpr std::int64_t kMaxBytes = std::int64_t{1} << 50;  // 1 PiB: beyond any machine
  sdk::Resources resources;
  resources.network_mode = optionalString(step, "networkMode", where);
  resources.cpu_shares = optionalInteger(step, "cpuShares", where, 0, 262144);
  resources.memory = optionalInteger(step, "memory", where, 0, kMaxBytes);
  resources.pids_limit = optionalInteger(step, "pidsLimit", where, 0, 4194304);
  if (step.has("cpus") && !step.isNull("cpus")) {
    Poco::Dynamic::Var value = step.get("cpus");
    const double cpus = value.isNumeric() ? value.convert<double>() : -1;
    if (!(cpus > 0) || cpus > 1024) reject(where + ".cpus must be a number of CPUs above 0 and at most 1024");
    resources.nano_cpus = static_cast<std::int64_t>(cpus * 1e9 + 0.5);
  }
  return resources;
}

Array::Ptr optionalArray(const Object& object, const std::string& key, const std::string& where) {
  if (!object.has(key) || object.isNull(key)) return nullptr;
  Array::Ptr array = object.getArray(key);  // null Ptr when the value is not an array
  if (!array) reject(where + "." + key + " must be an array");
  return array;
}

// `environment` or `secrets`: [{"variable","value"}], same checks and limits for both.
std::vector<sdk::EnvVar> decodeEnvironment(const Object& owner, const std::string& where,
                                           const std::string& key = "environment") {
  std::vector<sdk::EnvVar> result;
  Array::Ptr entries = optionalArray(owner, key, where);
  if (!entries) return result;
  if (entries->size() > kMaxEnvVars)
    reject(where + "." + key + " has more than " + std::to_string(kMaxEnvVars) + " entries");
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const std::string at = where + "." + key + "[" + std::to_string(i) + "]";
    Object::Ptr entry = entries->getObject(i);
    if (!entry) reject(at + " must be an object with variable and value");
    std::string variable = optionalString(*entry, "variable", at);
    if (variable.empty()) reject(at + " needs a non-empty variable");
    if (variable.find('=') != std::string::npos || variable.find('\0') != std::string::npos) {
      reject(at + ".variable must not contain '=' or NUL");
    }
    result.push_back({variable, optionalString(*entry, "value", at)});
  }
  return result;
}

// Job secrets: like the environment, but each value is at least kMinSecretLength bytes
// (shorter ones cannot be masked inside lines) and is replaced by "***" in `owner`, the
// document that is echoed and stored, so the real values exist only in the definition.
std::vector<sdk::EnvVar> decodeSecrets(Object& owner) {
  std::vector<sdk::EnvVar> secrets = decodeEnvironment(owner, "job", "secrets");
  if (secrets.empty()) return secrets;
  Array::Ptr entries = owner.getArray("secrets");
  for (std::size_t i = 0; i < secrets.size(); ++i) {
    if (secrets[i].value.size() < kMinSecretLength) {
      reject("job.secrets[" + std::to_string(i) + "].value must be at least " + std::to_string(kMinSecretLength) +
             " bytes");
    }
    entries->getObject(i)->set("value", std::string(kSecretMask));
  }
  return secrets;
}

StepDefinition decodeStep(const Array& steps, std::size_t index) {
  const std::string where = "steps[" + std::to_string(index) + "]";
  Object::Ptr object = steps.getObject(index);
  if (!object) reject(where + " must be an object");
  StepDefinition step;
  step.source = optionalString(*object, "source", where);
  if (step.source.empty()) reject(where + " needs a source (the image to run)");
  step.name = optionalString(*object, "name", where);
  step.output = optionalString(*object, "output", where, "stdout");
  if (step.output.empty()) reject(where + ".output must not be empty");
  step.refresh = optionalBool(*object, "refresh", where);
  step.begin_delimiter = optionalString(*object, "beginDelimiter", where);
  step.end_delimiter = optionalString(*object, "endDelimiter", where);
  if (step.begin_delimiter.empty() != step.end_delimiter.empty()) {
    reject(where + " needs both beginDelimiter and endDelimiter, or neither");
  }
  step.environment = decodeEnvironment(*object, where);
  // Unknown fields are echoed and stored as sent: a misplaced secret would be kept in clear.
  if (object->has("secrets")) reject(where + ".secrets is not supported: secrets belong to the job");
  step.timeout = optionalSeconds(*object, "timeout", where);
  step.resources = decodeResources(*object, where);
  step.retries = static_cast<unsigned>(optionalInteger(*object, "retries", where, 0, kMaxRetries));
  step.retry_backoff = optionalDelay(*object, "retryBackoff", where, 0);
  step.retry_backoff_max = optionalDelay(*object, "retryBackoffMax", where, kDefaultRetryBackoffMax);
  return step;
}

Object::Ptr parseObject(const std::string& body) {
  if (body.empty()) reject("request body is empty; expected a job as JSON");
  Poco::Dynamic::Var root;
  try {
    // Keep the client's key order so the echo reads like what was sent.
    Poco::JSON::Parser parser(new Poco::JSON::ParseHandler(true));
    root = parser.parse(body);
  } catch (const Poco::Exception& e) {
    reject("request body is not valid JSON: " + e.message());
  }
  if (root.type() != typeid(Object::Ptr)) reject("a job must be a JSON object");
  return root.extract<Object::Ptr>();
}

// `callback`: {"url", "secret"}. The URL's shape is checked here, where it may go by the
// resolver (WebhookPolicy); the secret is checked and masked in `owner` like job secrets.
void decodeCallback(Object& owner, JobDefinition& job) {
  if (!owner.has("callback") || owner.isNull("callback")) return;
  Object::Ptr callback = owner.getObject("callback");
  if (!callback) reject("job.callback must be an object with url and optional secret");
  for (const auto& key : callback->getNames()) {
    if (key != "url" && key != "secret") reject("job.callback." + key + " is not a callback field (url, secret)");
  }
  job.callback_url = optionalString(*callback, "url", "job.callback");
  if (job.callback_url.empty()) reject("job.callback needs a url");
  if (std::string bad = WebhookPolicy::malformed(job.callback_url); !bad.empty()) reject("job.callback.url " + bad);
  job.callback_secret = optionalString(*callback, "secret", "job.callback");
  if (!job.callback_secret.empty()) {
    try {
      webhookKey(job.callback_secret);
    } catch (const std::invalid_argument& e) {
      reject(std::string("job.callback.secret ") + e.what());
    }
    callback->set("secret", std::string(kSecretMask));
  }
}

// `mode`: "sequential" (the default, the original's) or "stream". In stream mode a step's
// output flows into the next one while both run, so what needs a step to have ended is
// refused here, naming the step.
bool decodeMode(const Object& document) {
  const std::string mode = optionalString(document, "mode", "job", "sequential");
  if (mode != "sequential" && mode != "stream")
    reject("job.mode must be \"sequential\" or \"stream\", got '" + mode + "'");
  return mode == "stream";
}

void checkStreamable(const JobDefinition& job) {
  for (std::size_t i = 0; i < job.steps.size(); ++i) {
    const StepDefinition& step = job.steps[i];
    const std::string where = "steps[" + std::to_string(i) + "]" + (step.name.empty() ? "" : " (" + step.name + ")");
    if (step.output != "stdout" && step.output != "stderr") {
      reject(where + ".output '" + step.output +
             "' is read once the step has ended; in stream mode a step passes on stdout or stderr only");
    }
    if (step.retries > 0) {
      reject(where + ".retries cannot be used in stream mode: a restarted step cannot read its input again");
    }
  }
}

}  // namespace

DecodedJob decodeJob(const std::string& body) {
  Object::Ptr document = parseObject(body);
  DecodedJob decoded{{}, document};
  JobDefinition& job = decoded.definition;
  job.name = optionalString(*document, "name", "job");
  job.environment = decodeEnvironment(*document, "job");
  job.secrets = decodeSecrets(*document);
  job.deadline = optionalSeconds(*document, "deadline", "job");
  job.input = decodeInput(*document);
  decodeCallback(*document, job);
  job.rerun_on_node_loss = optionalBool(*document, "rerunOnNodeLoss", "job");
  Array::Ptr steps = optionalArray(*document, "steps", "job");
  if (!steps || steps->size() == 0) reject("job needs a non-empty steps array");
  if (steps->size() > kMaxSteps) reject("job has more than " + std::to_string(kMaxSteps) + " steps");
  for (std::size_t i = 0; i < steps->size(); ++i) job.steps.push_back(decodeStep(*steps, i));
  job.stream = decodeMode(*document);
  if (job.stream) checkStreamable(job);
  return decoded;
}

std::string encodeCreatedJob(const Object::Ptr& document, const std::string& id) {
  Object echo(Poco::JSON_PRESERVE_KEY_ORDER);
  echo.set("id", id);
  for (const auto& key : document->getNames()) {
    if (key != "id") echo.set(key, document->get(key));
  }
  std::ostringstream out;
  echo.stringify(out);
  return out.str();
}

}  // namespace dray::core
