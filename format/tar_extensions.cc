#include "format/tar_extensions.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "format/tar_pax.h"

namespace tide::format {
namespace {

constexpr uint64_t kMaxPaxSize = 1u << 20;
constexpr uint64_t kMaxLongNameSize = 64u << 10;

void SetXattr(std::string name, const std::string& value, TarEntry* e) {
  auto it = std::find_if(e->xattrs.begin(), e->xattrs.end(), [&](const auto& x) { return x.first == name; });
  if (it != e->xattrs.end()) {
    it->second = value;
  } else {
    e->xattrs.emplace_back(std::move(name), value);
  }
}

absl::Status ApplyRecord(const std::string& key, const std::string& value, bool global, TarEntry* e) {
  if (key == "path") {
    if (!global) e->raw_name = value;
  } else if (key == "linkpath") {
    if (!global) e->link_target = value;
  } else if (key == "size") {
    TIDE_ASSIGN_OR_RETURN(e->size, ParsePaxUnsigned(value, key));
  } else if (key == "mtime") {
    TIDE_RETURN_IF_ERROR(ParsePaxTime(value, &e->mtime_sec, &e->mtime_nsec));
  } else if (key == "uid" || key == "gid") {
    TIDE_ASSIGN_OR_RETURN(uint64_t id, ParsePaxUnsigned(value, key));
    if (id > UINT32_MAX) return absl::InvalidArgumentError(absl::StrCat("PAX ", key, " ", id, " too large"));
    (key == "uid" ? e->uid : e->gid) = static_cast<uint32_t>(id);
  } else if (key == "uname") {
    e->uname = value;
  } else if (key == "gname") {
    e->gname = value;
  } else if (absl::StartsWith(key, "SCHILY.xattr.")) {
    std::string name = key.substr(13);
    if (name.empty()) return absl::InvalidArgumentError("PAX xattr record with an empty name");
    SetXattr(std::move(name), value, e);
  } else if (absl::StartsWith(key, "GNU.sparse.")) {
    return absl::UnimplementedError("GNU sparse files are not supported");
  }
  // Other keys (atime, ctime, comment, charset, ...) do not affect the entry.
  return absl::OkStatus();
}

}  // namespace

bool IsExtensionTypeflag(char flag) { return flag == 'x' || flag == 'g' || flag == 'L' || flag == 'K'; }

uint64_t MaxExtensionSize(char flag) { return (flag == 'x' || flag == 'g') ? kMaxPaxSize : kMaxLongNameSize; }

absl::Status AddExtension(char flag, std::string data, TarExtensions* ext,
                          std::map<std::string, std::string>* global) {
  if (flag == 'L' || flag == 'K') {
    data.resize(std::min(data.size(), data.find('\0')));
    (flag == 'L' ? ext->gnu_long_name : ext->gnu_long_link) = std::move(data);
    return absl::OkStatus();
  }
  TIDE_ASSIGN_OR_RETURN(auto records, ParsePaxRecords(data));
  if (flag == 'g') {
    for (auto& [k, v] : records) (*global)[k] = v;
  } else {
    for (auto& r : records) ext->pax.push_back(std::move(r));
  }
  return absl::OkStatus();
}

absl::Status ApplyPaxRecords(const std::map<std::string, std::string>& global, const TarExtensions& ext,
                             TarEntry* e) {
  for (const auto& [key, value] : global) TIDE_RETURN_IF_ERROR(ApplyRecord(key, value, true, e));
  for (const auto& [key, value] : ext.pax) TIDE_RETURN_IF_ERROR(ApplyRecord(key, value, false, e));
  return absl::OkStatus();
}

}  // namespace tide::format
