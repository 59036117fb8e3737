#include "core/webhook_policy.hpp"

#include <Poco/Net/DNS.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/String.h>
#include <Poco/StringTokenizer.h>

#include "core/image_policy.hpp"

namespace dray::core {
namespace {

// Not a public unicast address: loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7),
// link-local (169.254/16, fe80::/10, which holds cloud metadata services), unspecified,
// multicast, broadcast, and the IPv4-mapped forms of those.
bool nonPublic(const Poco::Net::IPAddress& address) {
  if (address.isLoopback() || address.isWildcard() || address.isLinkLocal() || address.isSiteLocal() ||
      address.isMulticast() || address.isBroadcast()) {
    return true;
  }
  if (address.family() == Poco::Net::IPAddress::IPv4) {
    const auto bytes = static_cast<const unsigned char*>(address.addr());
    if (bytes[0] == 0 || (bytes[0] == 100 && (bytes[1] & 0xC0) == 64)) return true;  // 0/8, 100.64/10 (CGNAT)
  } else {
    const auto bytes = static_cast<const unsigned char*>(address.addr());
    if ((bytes[0] & 0xFE) == 0xFC) return true;  // fc00::/7 unique local
    if (address.isIPv4Mapped()) {
      return nonPublic(Poco::Net::IPAddress(bytes + 12, 4));
    }
  }
  return false;
}

}  // namespace

WebhookPolicy::WebhookPolicy(std::vector<std::string> allowed_hosts) : allowed_hosts_(std::move(allowed_hosts)) {
  for (auto& host : allowed_hosts_) host = Poco::toLower(host);
}

std::vector<std::string> WebhookPolicy::splitSetting(const std::string& setting) {
  Poco::StringTokenizer parts(setting, ",", Poco::StringTokenizer::TOK_IGNORE_EMPTY | Poco::StringTokenizer::TOK_TRIM);
  return {parts.begin(), parts.end()};
}

bool WebhookPolicy::listed(const std::string& host) const {
  for (const auto& glob : allowed_hosts_) {
    if (globMatch(glob, host)) return true;
  }
  return false;
}

std::string WebhookPolicy::malformed(const std::string& url) {
  Poco::URI uri;
  try {
    uri = Poco::URI(url);
  } catch (const Poco::Exception& e) {
    return "is not a URL (" + e.message() + ")";
  }
  if (uri.getScheme() != "http" && uri.getScheme() != "https") return "must be an http or https URL";
  if (uri.getHost().empty()) return "has no host";
  if (!uri.getUserInfo().empty()) return "must not carry credentials (user:password@)";
  return "";
}

std::string WebhookPolicy::refusal(const std::string& url) const {
  if (std::string bad = malformed(url); !bad.empty()) return bad;
  const std::string host = Poco::toLower(Poco::URI(url).getHost());
  const bool named = listed(host);
  if (!allowed_hosts_.empty() && !named) return "host '" + host + "' is not in DRAY_WEBHOOK_ALLOWED_HOSTS";
  if (named) return "";
  std::vector<Poco::Net::IPAddress> addresses;
  Poco::Net::IPAddress literal;
  if (Poco::Net::IPAddress::tryParse(host, literal)) {
    addresses.push_back(literal);
  } else {
    try {
      addresses = Poco::Net::DNS::hostByName(host).addresses();
    } catch (const Poco::Exception& e) {
      return "host '" + host + "' does not resolve (" + e.message() + ")";
    }
  }
  for (const auto& address : addresses) {
    if (nonPublic(address)) {
      return "host '" + host + "' is a loopback, link-local or private address (" + address.toString() +
             "); list it in DRAY_WEBHOOK_ALLOWED_HOSTS to allow it";
    }
  }
  return "";
}

}  // namespace dray::core
