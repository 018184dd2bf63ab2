#include "registry/realm_policy.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"

namespace tide::registry {
namespace {

// "host", "host:port", "[v6]" or "[v6]:port" -> the lowercase host name without the port.
std::string HostName(std::string_view authority) {
  if (authority.starts_with("[")) {
    size_t close = authority.find(']');
    return absl::AsciiStrToLower(
        Sv(authority.substr(0, close == std::string_view::npos ? close : close + 1)));
  }
  return absl::AsciiStrToLower(Sv(authority.substr(0, authority.find(':'))));
}

}  // namespace

absl::Status CheckRealmMayReceiveCredentials(const RegistryHost& host, std::string_view realm) {
  auto refuse = [&](std::string_view why) {
    return absl::UnauthenticatedError(absl::StrCat("refusing to send the credentials for ", host.host,
                                                   " to token realm ", Sv(realm), ": ", Sv(why)));
  };
  size_t scheme_end = realm.find("://");
  std::string scheme = absl::AsciiStrToLower(Sv(realm.substr(0, scheme_end)));
  if (scheme_end == std::string_view::npos || (scheme != "https" && scheme != "http")) {
    return refuse("not an http(s) URL");
  }
  std::string_view authority = realm.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) return refuse("the URL carries user information");
  if (HostName(authority).empty()) return refuse("the URL has no host");
  if (scheme == "https") return absl::OkStatus();
  if (host.scheme != "http") return refuse("plain HTTP for a registry configured for https");
  if (HostName(authority) != HostName(host.host)) return refuse("plain HTTP to another host");
  return absl::OkStatus();
}

}  // namespace tide::registry
