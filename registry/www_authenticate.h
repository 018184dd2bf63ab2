#ifndef TIDE_REGISTRY_WWW_AUTHENTICATE_H_
#define TIDE_REGISTRY_WWW_AUTHENTICATE_H_

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tide::registry {

struct AuthChallenge {
  std::string scheme;                         // lowercase: "basic", "bearer"
  std::map<std::string, std::string> params;  // lowercase names: realm, service, scope, error
};

// Parses a WWW-Authenticate header value (RFC 7235: one or more challenges with quoted or token
// parameters). Malformed parts are skipped, never guessed at.
std::vector<AuthChallenge> ParseWwwAuthenticate(std::string_view value);

// Every challenge of every WWW-Authenticate header among `headers` (lowercase names), in order.
std::vector<AuthChallenge> ChallengesIn(const std::vector<std::pair<std::string, std::string>>& headers);

}  // namespace tide::registry

#endif  // TIDE_REGISTRY_WWW_AUTHENTICATE_H_
