#ifndef TIDE_SNAPSHOTTER_FILTER_H_
#define TIDE_SNAPSHOTTER_FILTER_H_

#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tide::snapshotter {

// containerd's filter language (containerd/filters):
//   filter    := selector ("," selector)*        all selectors must match
//   selector  := fieldpath [op value]            no op: the field is present
//   fieldpath := field ("." field)*
//   op        := "==" | "!=" | "~="             ~= is a regular expression search
//   field     := quoted | [A-Za-z0-9_]+
//   value     := quoted | [^\s,]+
//   quoted    := Go string literal ("..."), or /.../ and |...| for values
// Several filter strings are OR-ed; no strings (or an empty string) match everything.
class Filter {
 public:
  // Returns the value at a field path and whether the field is present.
  using FieldLookup = std::function<std::optional<std::string>(const std::vector<std::string>& fieldpath)>;

  // InvalidArgument names the filter and the position of the problem.
  static absl::StatusOr<Filter> Parse(const std::vector<std::string>& filters);

  bool Match(const FieldLookup& lookup) const;

  enum class Op { kPresent, kEqual, kNotEqual, kMatches };
  struct Selector {
    std::vector<std::string> fieldpath;
    Op op = Op::kPresent;
    std::string value;
    std::shared_ptr<const std::regex> re;  // for kMatches
  };
  // OR of ANDs.
  const std::vector<std::vector<Selector>>& alternatives() const { return alternatives_; }

 private:
  std::vector<std::vector<Selector>> alternatives_;
  bool match_all_ = false;
};

}  // namespace tide::snapshotter

#endif  // TIDE_SNAPSHOTTER_FILTER_H_
