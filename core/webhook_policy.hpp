#pragma once

#include <string>
#include <vector>

#include <Poco/URI.h>

namespace dray::core {

/// A job's own `callback`: where its end goes, and the secret that signs it (may be empty).
struct WebhookTarget {
  std::string url;
  std::string secret;  ///< "whsec_<base64>", held only in memory
};

/// Where webhooks may go. A job's `callback` lets whoever submits jobs make dray send
/// requests, so: only http and https; when DRAY_WEBHOOK_ALLOWED_HOSTS is set, only hosts
/// matching one of its globs (`*` any run of characters, e.g. `*.example.com`,
/// `127.0.0.1`); and a host that is or resolves to a loopback, link-local, private or
/// otherwise non-public address only when a glob names it. The check runs at submit (400)
/// and again before every attempt, since a name may resolve differently later.
class WebhookPolicy {
 public:
  WebhookPolicy() = default;
  explicit WebhookPolicy(std::vector<std::string> allowed_hosts);

  /// Why `url` may not receive webhooks, or "" when it may. Resolves the host.
  std::string refusal(const std::string& url) const;
  /// For DRAY_WEBHOOK_URL, set by whoever runs dray: only the scheme and host are checked.
  static std::string malformed(const std::string& url);

  /// Splits DRAY_WEBHOOK_ALLOWED_HOSTS (comma-separated).
  static std::vector<std::string> splitSetting(const std::string& setting);

 private:
  bool listed(const std::string& host) const;

  std::vector<std::string> allowed_hosts_;
};

}  // namespace dray::core
