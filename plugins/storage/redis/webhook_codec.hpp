#pragma once

#include <optional>
#include <string>

#include "dray/sdk/types.hpp"

namespace dray::plugins::storage::redis {

/// A job's callback outcome as the JSON in the job hash's `callback` field.
std::string encodeCallbackRecord(const sdk::CallbackRecord& callback);
/// The reverse; a malformed value reads as no callback.
sdk::CallbackRecord decodeCallbackRecord(const std::string& json);

/// A pending webhook delivery as the JSON kept in the `<prefix>:webhooks` hash.
std::string encodePendingDelivery(const sdk::PendingDelivery& delivery);
/// The reverse; nullopt when it is not one (hand-edited, foreign).
std::optional<sdk::PendingDelivery> decodePendingDelivery(const std::string& json);

}  // namespace dray::plugins::storage::redis
