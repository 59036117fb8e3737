#include "plugins/storage/redis/step_record_codec.hpp"

#include <limits>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace dray::plugins::storage::redis {
namespace {

// A log position; absent (older records) or out of range reads as 0.
std::size_t logPosition(const Poco::JSON::Object& object, const std::string& name) {
  const auto value = object.optValue<Poco::Int64>(name, 0);
  return value > 0 ? static_cast<std::size_t>(value) : 0;
}

}  // namespace

std::string encodeStepRecord(const sdk::StepRecord& step) {
  Poco::JSON::Object object(Poco::JSON_PRESERVE_KEY_ORDER);
  object.set("name", step.name);
  object.set("image", step.image);
  object.set("state", step.state);
  object.set("exitCode", step.exit_code);
  object.set("startedAt", step.started_at);
  object.set("finishedAt", step.finished_at);
  object.set("attempts", step.attempts);
  object.set("logFrom", static_cast<Poco::UInt64>(step.log_from));
  object.set("logUntil", static_cast<Poco::UInt64>(step.log_until));
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

sdk::StepRecord decodeStepRecord(const std::string& json) {
  sdk::StepRecord step;
  try {
    Poco::JSON::Parser parser;
    auto object = parser.parse(json).extract<Poco::JSON::Object::Ptr>();
    step.name = object->optValue<std::string>("name", "");
    step.image = object->optValue<std::string>("image", "");
    step.state = object->optValue<std::string>("state", step.state);
    step.exit_code = object->optValue<int>("exitCode", -1);
    step.started_at = object->optValue<std::string>("startedAt", "");
    step.finished_at = object->optValue<std::string>("finishedAt", "");
    // Records written before retries existed have none; a count out of range is ignored.
    const auto attempts = object->optValue<Poco::Int64>("attempts", 0);
    if (attempts >= 0 && attempts <= static_cast<Poco::Int64>(std::numeric_limits<unsigned>::max()))
      step.attempts = static_cast<unsigned>(attempts);
    step.log_from = logPosition(*object, "logFrom");
    step.log_until = logPosition(*object, "logUntil");
  } catch (const std::exception&) {
    // A hand-edited or foreign record: show what we have.
  }
  return step;
}

}  // namespace dray::plugins::storage::redis
