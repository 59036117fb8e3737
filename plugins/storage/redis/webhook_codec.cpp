#include "plugins/storage/redis/webhook_codec.hpp"

#include <limits>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace dray::plugins::storage::redis {
namespace {

std::string text(const Poco::JSON::Object& object) {
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

unsigned count(const Poco::JSON::Object& object, const std::string& name) {
  const auto value = object.optValue<Poco::Int64>(name, 0);
  return value > 0 && value <= std::numeric_limits<unsigned>::max() ? static_cast<unsigned>(value) : 0;
}

}  // namespace

std::string encodeCallbackRecord(const sdk::CallbackRecord& callback) {
  Poco::JSON::Object object(Poco::JSON_PRESERVE_KEY_ORDER);
  object.set("delivered", callback.delivered);
  object.set("attempts", callback.attempts);
  object.set("lastError", callback.last_error);
  return text(object);
}

sdk::CallbackRecord decodeCallbackRecord(const std::string& json) {
  sdk::CallbackRecord callback;
  try {
    auto object = Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
    callback.delivered = object->optValue<bool>("delivered", false);
    callback.attempts = count(*object, "attempts");
    callback.last_error = object->optValue<std::string>("lastError", "");
    callback.requested = true;
  } catch (const std::exception&) {
    // Not ours: show no callback rather than a made-up one.
  }
  return callback;
}

std::string encodePendingDelivery(const sdk::PendingDelivery& delivery) {
  Poco::JSON::Object object(Poco::JSON_PRESERVE_KEY_ORDER);
  object.set("id", delivery.id);
  object.set("jobId", delivery.job_id);
  object.set("url", delivery.url);
  object.set("owner", delivery.owner);
  object.set("jobCallback", delivery.job_callback);
  object.set("signedByJob", delivery.signed_by_job);
  object.set("attempts", delivery.attempts);
  object.set("body", delivery.body);
  return text(object);
}

std::optional<sdk::PendingDelivery> decodePendingDelivery(const std::string& json) {
  try {
    auto object = Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
    sdk::PendingDelivery delivery;
    delivery.id = object->getValue<std::string>("id");
    delivery.job_id = object->getValue<std::string>("jobId");
    delivery.url = object->getValue<std::string>("url");
    delivery.owner = object->getValue<std::string>("owner");
    delivery.job_callback = object->optValue<bool>("jobCallback", false);
    delivery.signed_by_job = object->optValue<bool>("signedByJob", false);
    delivery.attempts = count(*object, "attempts");
    delivery.body = object->getValue<std::string>("body");
    return delivery;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace dray::plugins::storage::redis
