#include "snapshotter/filter.h"

#include <cctype>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tide::snapshotter {
namespace {

// A hand-written scanner over one filter string; positions in errors are byte offsets.
class Parser {
 public:
  explicit Parser(const std::string& input) : in_(input) {}

  absl::StatusOr<std::vector<Filter::Selector>> ParseFilter() {
    std::vector<Filter::Selector> selectors;
    SkipSpace();
    if (AtEnd()) return selectors;
    while (true) {
      TIDE_ASSIGN_OR_RETURN(Filter::Selector selector, ParseSelector());
      selectors.push_back(std::move(selector));
      SkipSpace();
      if (AtEnd()) return selectors;
      if (in_[pos_] != ',') return Error("expected ',' between selectors");
      ++pos_;
      SkipSpace();
      if (AtEnd()) return Error("selector expected after ','");
    }
  }

 private:
  bool AtEnd() const { return pos_ >= in_.size(); }
  void SkipSpace() {
    while (!AtEnd() && std::isspace(static_cast<unsigned char>(in_[pos_]))) ++pos_;
  }
  absl::Status Error(const std::string& what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid filter \"", in_, "\" at offset ", pos_, ": ", what));
  }

  absl::StatusOr<Filter::Selector> ParseSelector() {
    Filter::Selector selector;
    while (true) {
      SkipSpace();
      TIDE_ASSIGN_OR_RETURN(std::string field, ParseField());
      selector.fieldpath.push_back(std::move(field));
      SkipSpace();
      if (AtEnd() || in_[pos_] != '.') break;
      ++pos_;
    }
    SkipSpace();
    if (AtEnd() || in_[pos_] == ',') return selector;
    std::string op = in_.substr(pos_, 2);
    if (op == "==") {
      selector.op = Filter::Op::kEqual;
    } else if (op == "!=") {
      selector.op = Filter::Op::kNotEqual;
    } else if (op == "~=") {
      selector.op = Filter::Op::kMatches;
    } else {
      return Error("expected an operator (==, != or ~=)");
    }
    pos_ += 2;
    SkipSpace();
    TIDE_ASSIGN_OR_RETURN(selector.value, ParseValue());
    if (selector.op == Filter::Op::kMatches) {
      try {
        selector.re = std::make_shared<const std::regex>(selector.value, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        return Error(absl::StrCat("bad regular expression \"", selector.value, "\": ", e.what()));
      }
    }
    return selector;
  }

  absl::StatusOr<std::string> ParseField() {
    if (AtEnd()) return Error("field name expected");
    if (in_[pos_] == '"') return ParseQuoted('"');
    size_t start = pos_;
    while (!AtEnd() && (std::isalnum(static_cast<unsigned char>(in_[pos_])) || in_[pos_] == '_')) ++pos_;
    if (pos_ == start) return Error("field name expected");
    return in_.substr(start, pos_ - start);
  }

  absl::StatusOr<std::string> ParseValue() {
    if (AtEnd()) return Error("value expected");
    char c = in_[pos_];
    if (c == '"' || c == '/' || c == '|') return ParseQuoted(c);
    size_t start = pos_;
    while (!AtEnd() && in_[pos_] != ',' && !std::isspace(static_cast<unsigned char>(in_[pos_]))) ++pos_;
    if (pos_ == start) return Error("value expected");
    return in_.substr(start, pos_ - start);
  }

  // Go string literal escapes for "..."; regex delimiters only unescape the delimiter itself.
  absl::StatusOr<std::string> ParseQuoted(char quote) {
    ++pos_;
    std::string out;
    while (!AtEnd()) {
      char c = in_[pos_++];
      if (c == quote) return out;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (AtEnd()) break;
      char e = in_[pos_++];
      if (quote != '"') {
        if (e != quote) out.push_back('\\');
        out.push_back(e);
        continue;
      }
      switch (e) {
        case 'n':
          out.push_back('\n');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 'a':
          out.push_back('\a');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'v':
          out.push_back('\v');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '"':
          out.push_back('"');
          break;
        case '\'':
          out.push_back('\'');
          break;
        default:
          return Error(absl::StrCat("unknown escape \\", std::string(1, e)));
      }
    }
    return Error("unterminated quoted string");
  }

  const std::string& in_;
  size_t pos_ = 0;
};

bool MatchSelector(const Filter::Selector& s, const Filter::FieldLookup& lookup) {
  std::optional<std::string> value = lookup(s.fieldpath);
  switch (s.op) {
    case Filter::Op::kPresent:
      return value.has_value();
    case Filter::Op::kEqual:
      return value.has_value() && *value == s.value;
    case Filter::Op::kNotEqual:
      // containerd compares the (possibly empty) value, so an absent field is != anything non-empty.
      return value.value_or("") != s.value;
    case Filter::Op::kMatches:
      return value.has_value() && std::regex_search(*value, *s.re);
  }
  return false;
}

}  // namespace

absl::StatusOr<Filter> Filter::Parse(const std::vector<std::string>& filters) {
  Filter filter;
  for (const std::string& text : filters) {
    TIDE_ASSIGN_OR_RETURN(auto selectors, Parser(text).ParseFilter());
    if (selectors.empty()) filter.match_all_ = true;
    filter.alternatives_.push_back(std::move(selectors));
  }
  if (filters.empty()) filter.match_all_ = true;
  return filter;
}

bool Filter::Match(const FieldLookup& lookup) const {
  if (match_all_) return true;
  for (const auto& selectors : alternatives_) {
    bool all = true;
    for (const auto& s : selectors) {
      if (!MatchSelector(s, lookup)) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

}  // namespace tide::snapshotter
