#include "format/tar_extensions.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "format/tar_header.h"
#include "format/tar_pax.h"

namespace tide::format {
namespace {

// Go's archive/tar reads at most 1 MiB of any extension header; tide takes PAX headers that large,
// and GNU names up to 64 KiB (more than any file system takes).
constexpr int64_t kMaxPaxSize = 1 << 20;
constexpr int64_t kMaxLongNameSize = 64 << 10;
// Writers put at most a few extension headers before an entry ('g' once, 'x', 'L', 'K').
constexpr int kMaxHeadersPerEntry = 16;
constexpr uint64_t kMaxBytesPerEntry = 2u << 20;

constexpr absl::string_view kXattrPrefix = "SCHILY.xattr.";

// One value per key, the last one, in the order keys first appear.
std::vector<std::pair<std::string, std::string>> LastValuePerKey(
    std::vector<std::pair<std::string, std::string>> records) {
  std::vector<std::pair<std::string, std::string>> out;
  absl::flat_hash_map<std::string, size_t> position;
  for (auto& [key, value] : records) {
    auto [it, inserted] = position.try_emplace(key, out.size());
    if (inserted) {
      out.emplace_back(std::move(key), std::move(value));
    } else {
      out[it->second].second = std::move(value);
    }
  }
  return out;
}

absl::Status RejectSparse(const std::vector<std::pair<std::string, std::string>>& records) {
  for (const auto& record : records) {
    if (absl::StartsWith(record.first, "GNU.sparse.")) {
      return absl::UnimplementedError("GNU sparse files (PAX GNU.sparse records) are not supported");
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyRecord(const std::string& key, const std::string& value, TarHeaderFields* h) {
  if (absl::StartsWith(key, kXattrPrefix)) {
    std::string name = key.substr(kXattrPrefix.size());
    if (name.empty()) return absl::InvalidArgumentError("PAX xattr record with an empty name");
    h->xattrs.emplace_back(std::move(name), value);
    return absl::OkStatus();
  }
  if (value.empty()) return absl::OkStatus();
  int64_t unused_sec = 0;
  uint32_t unused_nsec = 0;
  if (key == "path") {
    h->name = value;
  } else if (key == "linkpath") {
    h->linkname = value;
  } else if (key == "uname") {
    h->uname = value;
  } else if (key == "gname") {
    h->gname = value;
  } else if (key == "uid") {
    TIDE_ASSIGN_OR_RETURN(h->uid, ParsePaxInteger(value, key));
  } else if (key == "gid") {
    TIDE_ASSIGN_OR_RETURN(h->gid, ParsePaxInteger(value, key));
  } else if (key == "size") {
    TIDE_ASSIGN_OR_RETURN(h->size, ParsePaxInteger(value, key));
  } else if (key == "mtime") {
    TIDE_RETURN_IF_ERROR(ParsePaxTime(value, key, &h->mtime_sec, &h->mtime_nsec));
  } else if (key == "atime" || key == "ctime") {
    // Not kept, but a malformed one fails the entry in Go.
    TIDE_RETURN_IF_ERROR(ParsePaxTime(value, key, &unused_sec, &unused_nsec));
  }
  // Other keys (comment, charset, ...) do not affect the entry.
  return absl::OkStatus();
}

}  // namespace

bool TarExtensions::IsExtensionTypeflag(char flag) {
  return flag == 'x' || flag == 'g' || flag == 'L' || flag == 'K';
}

absl::Status TarExtensions::Reserve(char flag, int64_t size) {
  int64_t limit = (flag == 'x' || flag == 'g') ? kMaxPaxSize : kMaxLongNameSize;
  if (size < 0) return absl::InvalidArgumentError("negative size");
  if (size > limit) {
    return absl::InvalidArgumentError(absl::StrCat("extension header of ", size, " bytes is too large"));
  }
  if (++headers_ > kMaxHeadersPerEntry) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than ", kMaxHeadersPerEntry, " extension headers in a row"));
  }
  uint64_t blocks = (static_cast<uint64_t>(size) + kTarBlockSize - 1) / kTarBlockSize;
  bytes_ += (1 + blocks) * kTarBlockSize;
  if (bytes_ > kMaxBytesPerEntry) {
    return absl::InvalidArgumentError(
        absl::StrCat("extension headers in a row exceed ", kMaxBytesPerEntry, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status TarExtensions::Add(char flag, std::string data) {
  if (flag == 'L' || flag == 'K') {
    data.resize(std::min(data.size(), data.find('\0')));
    (flag == 'L' ? gnu_long_name_ : gnu_long_link_) = std::move(data);
    pending_ = true;
    return absl::OkStatus();
  }
  TIDE_ASSIGN_OR_RETURN(auto records, ParsePaxRecords(data));
  if (flag == 'g') {
    TIDE_RETURN_IF_ERROR(RejectSparse(records));
    pax_.clear();
    gnu_long_name_.clear();
    gnu_long_link_.clear();
    pending_ = false;
    return absl::OkStatus();
  }
  pax_ = LastValuePerKey(std::move(records));
  pending_ = true;
  return absl::OkStatus();
}

absl::Status TarExtensions::ApplyTo(TarHeaderFields* h) const {
  // Go would read the entry as a sparse file; tide does not guess at one.
  TIDE_RETURN_IF_ERROR(RejectSparse(pax_));
  for (const auto& [key, value] : pax_) TIDE_RETURN_IF_ERROR(ApplyRecord(key, value, h));
  if (!gnu_long_name_.empty()) h->name = gnu_long_name_;
  if (!gnu_long_link_.empty()) h->linkname = gnu_long_link_;
  return absl::OkStatus();
}

}  // namespace tide::format
