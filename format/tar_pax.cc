#include "format/tar_pax.h"

#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"

namespace tide::format {

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParsePaxRecords(std::string_view data) {
  std::vector<std::pair<std::string, std::string>> records;
  while (!data.empty()) {
    if (data.find_first_not_of('\0') == std::string_view::npos) break;  // NUL padding some writers add
    size_t space = data.find(' ');
    if (space == std::string_view::npos || space == 0 || space > 20) {
      return absl::InvalidArgumentError("malformed PAX record: missing length");
    }
    uint64_t length = 0;
    for (size_t i = 0; i < space; ++i) {
      if (data[i] < '0' || data[i] > '9') return absl::InvalidArgumentError("malformed PAX record length");
      length = length * 10 + static_cast<uint64_t>(data[i] - '0');
    }
    if (length <= space + 1 || length > data.size()) {
      return absl::InvalidArgumentError("PAX record length out of range");
    }
    std::string_view record = data.substr(space + 1, length - space - 1);
    if (record.back() != '\n') return absl::InvalidArgumentError("PAX record not terminated by a newline");
    record.remove_suffix(1);
    size_t eq = record.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return absl::InvalidArgumentError("malformed PAX record: missing key");
    }
    records.emplace_back(std::string(record.substr(0, eq)), std::string(record.substr(eq + 1)));
    data.remove_prefix(length);
  }
  return records;
}

absl::StatusOr<uint64_t> ParsePaxUnsigned(std::string_view text, std::string_view key) {
  if (text.empty() || text.size() > 19) {
    return absl::InvalidArgumentError(absl::StrCat("invalid PAX ", Sv(key), " '", Sv(text), "'"));
  }
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return absl::InvalidArgumentError(absl::StrCat("invalid PAX ", Sv(key), " '", Sv(text), "'"));
    }
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

absl::Status ParsePaxTime(std::string_view text, int64_t* sec, uint32_t* nsec) {
  bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  auto s = ParsePaxUnsigned(whole, "mtime");
  if (!s.ok()) return s.status();
  uint32_t ns = 0;
  for (size_t i = 0; i < frac.size(); ++i) {
    if (frac[i] < '0' || frac[i] > '9') return absl::InvalidArgumentError("invalid PAX mtime fraction");
    if (i < 9) ns = ns * 10 + static_cast<uint32_t>(frac[i] - '0');
  }
  for (size_t i = frac.size(); i < 9; ++i) ns *= 10;
  int64_t whole_sec = static_cast<int64_t>(*s);
  if (negative && ns != 0) {
    *sec = -whole_sec - 1;
    *nsec = 1000000000u - ns;
  } else {
    *sec = negative ? -whole_sec : whole_sec;
    *nsec = ns;
  }
  return absl::OkStatus();
}

}  // namespace tide::format
