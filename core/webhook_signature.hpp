#pragma once

#include <cstdint>
#include <string>

namespace dray::core {

/// The key of a Standard Webhooks secret "whsec_<base64>": the decoded bytes. Throws
/// std::invalid_argument (naming what is wrong, never the secret) when it is not one, or
/// when the key is shorter than 24 or longer than 64 bytes, as the spec asks.
std::string webhookKey(const std::string& secret);

/// The Standard Webhooks signature header value for one attempt:
/// "v1,<base64 of HMAC-SHA256(key, "{id}.{timestamp}.{body}")>".
std::string webhookSignature(const std::string& key, const std::string& id, std::int64_t timestamp,
                             const std::string& body);

}  // namespace dray::core
