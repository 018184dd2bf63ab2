#include "format/tar_path.h"

#include "absl/strings/str_cat.h"
#include "format/tar_quote.h"

namespace tide::format {

absl::StatusOr<std::string> NormalizeTarPath(std::string_view raw) {
  if (raw.empty()) return absl::InvalidArgumentError("empty name");
  if (raw.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("name ", QuoteTarText(raw), " contains a NUL byte"));
  }
  if (raw.front() == '/') {
    return absl::InvalidArgumentError(absl::StrCat("absolute path ", QuoteTarText(raw), " is not allowed"));
  }
  std::string out;
  out.reserve(raw.size());
  size_t pos = 0;
  while (pos <= raw.size()) {
    size_t end = raw.find('/', pos);
    if (end == std::string_view::npos) end = raw.size();
    std::string_view part = raw.substr(pos, end - pos);
    if (part == "..") {
      return absl::InvalidArgumentError(absl::StrCat("path ", QuoteTarText(raw), " has a '..' component"));
    }
    if (!part.empty() && part != ".") {
      if (!out.empty()) out.push_back('/');
      out.append(part);
    }
    pos = end + 1;
  }
  return out;
}

absl::Status ResolveEntryPaths(TarEntry* e) {
  auto path = NormalizeTarPath(e->raw_name);
  if (!path.ok()) return path.status();
  e->path = std::move(*path);
  if (e->type == EntryType::kHardlink) {
    auto target = NormalizeTarPath(e->link_target);
    if (!target.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("hardlink target: ", target.status().message()));
    }
    if (target->empty()) return absl::InvalidArgumentError("hardlink to the root directory");
    e->link_target = std::move(*target);
  } else if (e->type == EntryType::kSymlink) {
    if (e->link_target.empty()) return absl::InvalidArgumentError("symlink with an empty target");
  } else {
    e->link_target.clear();
  }
  return absl::OkStatus();
}

bool IsNormalizedPath(std::string_view path) {
  if (path.empty()) return true;
  if (path.find('\0') != std::string_view::npos) return false;
  size_t pos = 0;
  while (true) {
    size_t end = path.find('/', pos);
    std::string_view part = path.substr(pos, end == std::string_view::npos ? end : end - pos);
    if (part.empty() || part == "." || part == "..") return false;
    if (end == std::string_view::npos) return true;
    pos = end + 1;
  }
}

}  // namespace tide::format
