#include "profile/image_user.h"

#include <charconv>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "profile/image_root_file.h"

namespace tide::profile {

namespace {

constexpr size_t kMaxDatabaseBytes = 4 << 20;

std::optional<uint32_t> Number(absl::string_view s) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// The lines of a colon-separated database, each split into its fields.
std::vector<std::vector<absl::string_view>> Records(const std::string& text) {
  std::vector<std::vector<absl::string_view>> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (line.front() == '#') continue;
    out.push_back(absl::StrSplit(line, ':'));
  }
  return out;
}

absl::StatusOr<std::string> Database(int root_fd, const char* path, const std::string& user) {
  absl::StatusOr<std::string> text = ReadImageFile(root_fd, path, kMaxDatabaseBytes);
  if (!text.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("image user \"", user, "\": cannot use the image's /",
                                                   path, ": ", text.status().message()));
  }
  return text;
}

}  // namespace

absl::StatusOr<ImageUser> ResolveImageUser(int root_fd, const std::string& user) {
  ImageUser out;
  // No User is root, whose home and groups still come from the image, as with runc.
  std::vector<std::string> parts = absl::StrSplit(user.empty() ? "0" : user, absl::MaxSplits(':', 1));
  const std::string& name_or_uid = parts[0];
  std::optional<std::string> group = parts.size() > 1 ? std::optional(parts[1]) : std::nullopt;
  std::optional<uint32_t> uid = Number(name_or_uid);
  std::string name;

  // /etc/passwd matters for a name, and for a numeric uid's home and primary group.
  absl::StatusOr<std::string> passwd = Database(root_fd, "etc/passwd", user);
  if (!passwd.ok() && !uid.has_value()) return passwd.status();
  bool found = false;
  if (passwd.ok()) {
    for (const auto& f : Records(*passwd)) {
      if (f.size() < 7) continue;
      std::optional<uint32_t> entry_uid = Number(f[2]);
      std::optional<uint32_t> entry_gid = Number(f[3]);
      if (!entry_uid || !entry_gid) continue;
      if (uid.has_value() ? *entry_uid != *uid : f[0] != name_or_uid) continue;
      out.uid = *entry_uid;
      out.gid = *entry_gid;
      out.home = f[5].empty() ? "/" : std::string(f[5]);
      name = std::string(f[0]);
      found = true;
      break;
    }
  }
  if (!found) {
    if (!uid.has_value()) {
      return absl::NotFoundError(absl::StrCat("image user \"", user, "\": no user \"", name_or_uid,
                                              "\" in the image's /etc/passwd"));
    }
    out.uid = *uid;
  }

  std::optional<uint32_t> gid = group ? Number(*group) : std::nullopt;
  if (group && gid) out.gid = *gid;
  const bool need_groups = (group && !gid) || !name.empty();
  if (!need_groups) return out;
  absl::StatusOr<std::string> groups = Database(root_fd, "etc/group", user);
  if (!groups.ok()) {
    if (group && !gid) return groups.status();
    return out;  // no supplementary groups, as runc without /etc/group
  }
  bool group_found = !group || gid.has_value();
  for (const auto& f : Records(*groups)) {
    if (f.size() < 4) continue;
    std::optional<uint32_t> entry_gid = Number(f[2]);
    if (!entry_gid) continue;
    if (group && !gid && f[0] == *group) {
      out.gid = *entry_gid;
      group_found = true;
    }
    if (!name.empty()) {
      for (absl::string_view member : absl::StrSplit(f[3], ',', absl::SkipEmpty())) {
        if (member == name) out.groups.push_back(*entry_gid);
      }
    }
  }
  if (!group_found) {
    return absl::NotFoundError(
        absl::StrCat("image user \"", user, "\": no group \"", *group, "\" in the image's /etc/group"));
  }
  return out;
}

}  // namespace tide::profile
