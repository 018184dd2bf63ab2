#include "format/tar_pax.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "format/tar_quote.h"

namespace tide::format {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

// Keys whose values stand for ustar string fields, which cannot hold a NUL.
bool IsStringFieldKey(std::string_view key) {
  return key == "path" || key == "linkpath" || key == "uname" || key == "gname";
}

// One record at the start of `data`; removes it from `data`.
absl::StatusOr<std::pair<std::string, std::string>> NextRecord(std::string_view* data) {
  size_t space = data->find(' ');
  if (space == std::string_view::npos)
    return absl::InvalidArgumentError("malformed PAX record: missing length");
  auto length = ParsePaxInteger(data->substr(0, space), "record length");
  if (!length.ok()) return absl::InvalidArgumentError("malformed PAX record length");
  if (*length < 5 || static_cast<uint64_t>(*length) > data->size() ||
      static_cast<uint64_t>(*length) <= space + 1) {
    return absl::InvalidArgumentError("PAX record length out of range");
  }
  std::string_view record = data->substr(space + 1, static_cast<size_t>(*length) - space - 1);
  if (record.back() != '\n') return absl::InvalidArgumentError("PAX record not terminated by a newline");
  record.remove_suffix(1);
  size_t eq = record.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return absl::InvalidArgumentError("malformed PAX record: missing key");
  }
  std::string_view key = record.substr(0, eq);
  std::string_view value = record.substr(eq + 1);
  if (IsStringFieldKey(key) ? HasNul(value) : HasNul(key)) {
    return absl::InvalidArgumentError(absl::StrCat("PAX record ", QuoteTarText(key), " holds a NUL byte"));
  }
  data->remove_prefix(static_cast<size_t>(*length));
  return std::make_pair(std::string(key), std::string(value));
}

}  // namespace

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParsePaxRecords(std::string_view data) {
  std::vector<std::pair<std::string, std::string>> records;
  while (!data.empty()) {
    TIDE_ASSIGN_OR_RETURN(auto record, NextRecord(&data));
    records.push_back(std::move(record));
  }
  return records;
}

absl::StatusOr<int64_t> ParsePaxInteger(std::string_view text, std::string_view key) {
  auto invalid = [&] {
    return absl::InvalidArgumentError(absl::StrCat("invalid PAX ", Sv(key), " ", QuoteTarText(text)));
  };
  std::string_view digits = text;
  bool negative = !digits.empty() && digits.front() == '-';
  if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) digits.remove_prefix(1);
  if (digits.empty()) return invalid();
  // The magnitude limit is INT64_MAX, or INT64_MAX + 1 for negative numbers.
  const uint64_t limit = static_cast<uint64_t>(INT64_MAX) + (negative ? 1 : 0);
  uint64_t value = 0;
  for (char c : digits) {
    if (!IsDigit(c)) return invalid();
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (value > (limit - d) / 10) return invalid();
    value = value * 10 + d;
  }
  return negative ? static_cast<int64_t>(0 - value) : static_cast<int64_t>(value);
}

absl::Status ParsePaxTime(std::string_view text, std::string_view key, int64_t* sec, uint32_t* nsec) {
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  TIDE_ASSIGN_OR_RETURN(int64_t s, ParsePaxInteger(whole, key));
  uint32_t ns = 0;
  for (size_t i = 0; i < frac.size(); ++i) {
    if (!IsDigit(frac[i])) {
      return absl::InvalidArgumentError(absl::StrCat("invalid PAX ", Sv(key), " ", QuoteTarText(text)));
    }
    if (i < 9) ns = ns * 10 + static_cast<uint32_t>(frac[i] - '0');
  }
  for (size_t i = frac.size(); i < 9; ++i) ns *= 10;
  if (!whole.empty() && whole.front() == '-' && ns != 0) {
    if (s == INT64_MIN) {
      return absl::InvalidArgumentError(absl::StrCat("PAX ", Sv(key), " ", QuoteTarText(text), " overflows"));
    }
    *sec = s - 1;
    *nsec = 1000000000u - ns;
  } else {
    *sec = s;
    *nsec = ns;
  }
  return absl::OkStatus();
}

}  // namespace tide::format
