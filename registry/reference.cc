#include "registry/reference.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"

namespace tide::registry {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One path component: alnum runs joined by '.', '_', '__' or runs of '-' (distribution's grammar).
bool ValidComponent(std::string_view c) {
  if (c.empty() || !IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) return false;
  for (size_t i = 0; i < c.size(); ++i) {
    if (IsLowerAlnum(c[i])) continue;
    size_t j = i;
    while (j < c.size() && !IsLowerAlnum(c[j])) ++j;
    std::string_view sep = c.substr(i, j - i);
    bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (sep != "." && sep != "_" && sep != "__" && !dashes) return false;
    i = j - 1;
  }
  return true;
}

bool ValidRepository(std::string_view repo) {
  if (repo.empty() || repo.size() > 255) return false;
  size_t start = 0;
  while (true) {
    size_t slash = repo.find('/', start);
    if (!ValidComponent(repo.substr(start, slash - start))) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

bool ValidTag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128) return false;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!word(tag[0])) return false;
  for (char c : tag) {
    if (!word(c) && c != '.' && c != '-') return false;
  }
  return true;
}

bool ValidHost(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != ':' && c != '[' &&
        c != ']') {
      return false;
    }
  }
  return true;
}

// ":" followed by a decimal port number.
bool ValidPort(std::string_view port) {
  if (port.size() < 2 || port.size() > 6 || port[0] != ':') return false;
  return std::all_of(port.begin() + 1, port.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Only an address literal counts: a name such as "127.evil.example" resolves wherever its owner
// wants, so it gets no plain-http default.
bool IsLoopbackAddress(std::string_view name) {
  std::string literal(name);
  in_addr v4;
  if (inet_pton(AF_INET, literal.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  if (inet_pton(AF_INET6, literal.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

absl::Status Invalid(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("invalid image reference \"", Sv(text), "\": ", Sv(why)));
}

}  // namespace

bool IsLocalhost(std::string_view host) {
  std::string_view name = host;
  std::string_view port;
  if (name.starts_with("[")) {
    size_t close = name.find(']');
    if (close == std::string_view::npos) return false;
    port = name.substr(close + 1);
    name = name.substr(1, close - 1);
  } else if (size_t colon = name.find(':'); colon != std::string_view::npos) {
    port = name.substr(colon);
    name = name.substr(0, colon);
  }
  if (!port.empty() && !ValidPort(port)) return false;
  if (absl::EqualsIgnoreCase(Sv(name), "localhost")) return true;
  return IsLoopbackAddress(name);
}

absl::StatusOr<Reference> Reference::Parse(std::string_view text) {
  Reference ref;
  std::string_view rest = text;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    auto digest = Digest::Parse(rest.substr(at + 1));
    if (!digest.ok()) return Invalid(text, Sv(digest.status().message()));
    ref.digest_ = *digest;
    rest = rest.substr(0, at);
  }
  size_t last_slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (last_slash == std::string_view::npos || colon > last_slash)) {
    ref.tag_ = std::string(rest.substr(colon + 1));
    if (!ValidTag(ref.tag_)) return Invalid(text, "bad tag");
    rest = rest.substr(0, colon);
  }
  size_t first_slash = rest.find('/');
  std::string_view first = rest.substr(0, first_slash);
  bool has_host =
      first_slash != std::string_view::npos &&
      (first.find_first_of(".:") != std::string_view::npos || first == "localhost" || first.starts_with("["));
  if (has_host) {
    if (!ValidHost(first)) return Invalid(text, "bad registry host");
    ref.registry_ = std::string(first);
    rest = rest.substr(first_slash + 1);
  } else {
    ref.registry_ = std::string(kDockerHubRegistry);
  }
  if (ref.registry_ == "index.docker.io") ref.registry_ = std::string(kDockerHubRegistry);
  ref.repository_ = std::string(rest);
  if (ref.registry_ == kDockerHubRegistry && ref.repository_.find('/') == std::string::npos) {
    ref.repository_ = absl::StrCat("library/", ref.repository_);
  }
  if (!ValidRepository(ref.repository_)) {
    return Invalid(text, "repository must be lowercase path components of [a-z0-9] joined by . _ __ or -");
  }
  if (ref.tag_.empty() && !ref.digest_) ref.tag_ = "latest";
  return ref;
}

std::string Reference::String() const {
  std::string out = absl::StrCat(registry_, "/", repository_);
  if (!tag_.empty()) absl::StrAppend(&out, ":", tag_);
  if (digest_) absl::StrAppend(&out, "@", digest_->str());
  return out;
}

Reference Reference::WithDigest(const Digest& digest) const {
  Reference r = *this;
  r.digest_ = digest;
  return r;
}

Reference Reference::WithTag(std::string tag) const {
  Reference r = *this;
  r.tag_ = std::move(tag);
  r.digest_.reset();
  return r;
}

}  // namespace tide::registry
