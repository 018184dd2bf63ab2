#include "registry/www_authenticate.h"

#include <cctype>

namespace tide::registry {
namespace {

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~/").find(c) != std::string_view::npos;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct Cursor {
  std::string_view s;
  size_t i = 0;

  void SkipSpace() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  }
  bool Done() const { return i >= s.size(); }
  std::string_view Token() {
    size_t start = i;
    while (i < s.size() && IsTokenChar(s[i])) ++i;
    return s.substr(start, i - start);
  }
  // An unquoted value: registries put URLs here too, so take everything up to a separator.
  std::string_view Bare() {
    size_t start = i;
    while (i < s.size() && s[i] != ',' && s[i] != ' ' && s[i] != '\t') ++i;
    return s.substr(start, i - start);
  }
  bool Quoted(std::string& out) {
    ++i;
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\' && i + 1 < s.size()) ++i;
      out.push_back(s[i++]);
    }
    if (i >= s.size()) return false;
    ++i;
    return true;
  }
};

}  // namespace

std::vector<AuthChallenge> ParseWwwAuthenticate(std::string_view value) {
  std::vector<AuthChallenge> out;
  Cursor c{value};
  while (true) {
    c.SkipSpace();
    while (!c.Done() && c.s[c.i] == ',') {
      ++c.i;
      c.SkipSpace();
    }
    if (c.Done()) break;
    std::string_view scheme = c.Token();
    if (scheme.empty()) break;
    AuthChallenge challenge{Lower(scheme), {}};
    while (true) {
      c.SkipSpace();
      size_t mark = c.i;
      std::string_view name = c.Token();
      c.SkipSpace();
      if (name.empty() || c.Done() || c.s[c.i] != '=') {
        c.i = mark;  // next challenge's scheme
        break;
      }
      ++c.i;
      c.SkipSpace();
      std::string val;
      if (!c.Done() && c.s[c.i] == '"') {
        if (!c.Quoted(val)) break;  // unterminated: drop it rather than guess
      } else {
        val = std::string(c.Bare());
      }
      challenge.params[Lower(name)] = val;
      c.SkipSpace();
      if (!c.Done() && c.s[c.i] == ',') ++c.i;
    }
    out.push_back(std::move(challenge));
  }
  return out;
}

std::vector<AuthChallenge> ChallengesIn(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::vector<AuthChallenge> challenges;
  for (const auto& [name, value] : headers) {
    if (name != "www-authenticate") continue;
    for (auto& c : ParseWwwAuthenticate(value)) challenges.push_back(std::move(c));
  }
  return challenges;
}

}  // namespace tide::registry
