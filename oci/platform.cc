#include "oci/platform.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cctype>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "nlohmann/json.hpp"
#include "oci/json_fields.h"

namespace tide::oci {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool IsKnownOs(std::string_view os) {
  for (std::string_view k : {"linux", "windows", "darwin", "macos", "freebsd", "netbsd", "openbsd", "solaris",
                             "illumos", "aix", "android", "ios", "plan9", "js", "wasip1", "dragonfly"}) {
    if (os == k) return true;
  }
  return false;
}

// Mirrors containerd's platforms.normalizeArch.
void NormalizeArch(std::string& arch, std::string& variant) {
  arch = Lower(arch);
  variant = Lower(variant);
  if (arch == "i386" || arch == "386") {
    arch = "386";
    variant.clear();
  } else if (arch == "x86_64" || arch == "x86-64" || arch == "amd64") {
    arch = "amd64";
    if (variant == "v1") variant.clear();
  } else if (arch == "aarch64" || arch == "arm64") {
    arch = "arm64";
    if (variant.empty() || variant == "8") variant = "v8";
  } else if (arch == "armhf") {
    arch = "arm";
    variant = "v7";
  } else if (arch == "armel") {
    arch = "arm";
    variant = "v6";
  } else if (arch == "arm") {
    if (variant.empty() || variant == "7") {
      variant = "v7";
    } else if (variant == "5" || variant == "6" || variant == "8") {
      variant = "v" + variant;
    }
  }
}

}  // namespace

Platform Platform::Normalized() const {
  Platform p = *this;
  p.os = Lower(p.os);
  if (p.os == "macos") p.os = "darwin";
  NormalizeArch(p.architecture, p.variant);
  return p;
}

bool Platform::Matches(const Platform& other) const {
  Platform a = Normalized();
  Platform b = other.Normalized();
  if (a.os != b.os || a.architecture != b.architecture || a.variant != b.variant) return false;
  if (!a.os_version.empty() && !b.os_version.empty() && a.os_version != b.os_version) return false;
  return true;
}

std::string Platform::ToString() const {
  std::string s = absl::StrCat(os, "/", architecture);
  if (!variant.empty()) absl::StrAppend(&s, "/", variant);
  return s;
}

Platform Platform::Host() {
  Platform p;
  p.os = "linux";
  struct utsname u {};
  p.architecture = uname(&u) == 0 ? u.machine : "amd64";
  return p.Normalized();
}

absl::StatusOr<Platform> Platform::Parse(std::string_view text) {
  std::vector<std::string> parts = absl::StrSplit(Sv(text), '/');
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("platform \"", Sv(text), "\": ", Sv(why)));
  };
  if (text.empty()) return bad("empty");
  if (parts.size() > 3) return bad("want os[/arch[/variant]]");
  for (const std::string& part : parts) {
    if (part.empty()) return bad("empty component");
  }
  Platform p;
  if (parts.size() == 1) {
    std::string lone = Lower(parts[0]);
    if (IsKnownOs(lone)) {
      p = Host();
      p.os = lone;
    } else {
      p.os = Host().os;
      p.architecture = lone;
      std::string v;
      NormalizeArch(p.architecture, v);
      if (p.architecture == lone && v.empty() && lone != "386" && lone != "amd64" && lone != "ppc64le" &&
          lone != "s390x" && lone != "riscv64" && lone != "mips64le" && lone != "loong64") {
        return bad("unknown operating system or architecture");
      }
    }
    return p.Normalized();
  }
  p.os = parts[0];
  p.architecture = parts[1];
  if (parts.size() == 3) p.variant = parts[2];
  return p.Normalized();
}

absl::StatusOr<Platform> Platform::FromJson(const nlohmann::json& j, std::string_view context) {
  if (!j.is_object())
    return absl::InvalidArgumentError(absl::StrCat(Sv(context), ": platform is not an object"));
  Platform p;
  TIDE_RETURN_IF_ERROR(ReadString(j, "os", context, &p.os, Need::kRequired));
  TIDE_RETURN_IF_ERROR(ReadString(j, "architecture", context, &p.architecture, Need::kRequired));
  TIDE_RETURN_IF_ERROR(ReadString(j, "variant", context, &p.variant, Need::kOptional));
  TIDE_RETURN_IF_ERROR(ReadString(j, "os.version", context, &p.os_version, Need::kOptional));
  TIDE_RETURN_IF_ERROR(ReadStringList(j, "os.features", context, &p.os_features));
  return p;
}

nlohmann::json Platform::ToJson() const {
  nlohmann::json j = {{"architecture", architecture}, {"os", os}};
  if (!variant.empty()) j["variant"] = variant;
  if (!os_version.empty()) j["os.version"] = os_version;
  if (!os_features.empty()) j["os.features"] = os_features;
  return j;
}

}  // namespace tide::oci
