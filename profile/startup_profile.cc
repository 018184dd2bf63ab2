#include "profile/startup_profile.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"

namespace tide::profile {

namespace {

constexpr std::string_view kMagic = "tide-profile 1";

// Paths may hold any byte but NUL; newlines and backslashes are escaped so a read stays one line.
std::string EscapePath(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

absl::StatusOr<std::string> UnescapePath(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (++i == text.size()) return absl::InvalidArgumentError("path ends in a lone backslash");
    if (text[i] == '\\') {
      out += '\\';
    } else if (text[i] == 'n') {
      out += '\n';
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown escape \\", std::string(1, text[i]), " in path"));
    }
  }
  if (out.empty()) return absl::InvalidArgumentError("empty path");
  if (out.front() == '/' || out.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("path \"", out, "\" is not a relative layer path"));
  }
  return out;
}

// Splits off the next space-separated token.
std::string_view NextToken(std::string_view& rest) {
  size_t sp = rest.find(' ');
  std::string_view token = rest.substr(0, sp);
  rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
  return token;
}

absl::StatusOr<uint64_t> ParseNumber(std::string_view token, std::string_view what) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (token.empty() || ec != std::errc() || end != token.data() + token.size()) {
    return absl::InvalidArgumentError(absl::StrCat(Sv(what), " \"", Sv(token), "\" is not a decimal number"));
  }
  return value;
}

absl::Status ParseLine(std::string_view line, StartupProfile& profile) {
  std::string_view rest = line;
  std::string_view keyword = NextToken(rest);
  if (keyword == "layer") {
    TIDE_ASSIGN_OR_RETURN(uint64_t index, ParseNumber(NextToken(rest), "layer number"));
    if (index != profile.layers.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("layer number ", index, " out of sequence (want ", profile.layers.size(), ")"));
    }
    TIDE_ASSIGN_OR_RETURN(Digest digest, Digest::Parse(rest));
    profile.layers.push_back(digest);
    return absl::OkStatus();
  }
  if (keyword == "read") {
    TIDE_ASSIGN_OR_RETURN(uint64_t layer, ParseNumber(NextToken(rest), "layer number"));
    if (layer >= profile.layers.size()) {
      return absl::InvalidArgumentError(absl::StrCat("read names layer ", layer, ", which is not declared"));
    }
    TIDE_ASSIGN_OR_RETURN(uint64_t offset, ParseNumber(NextToken(rest), "offset"));
    TIDE_ASSIGN_OR_RETURN(uint64_t length, ParseNumber(NextToken(rest), "length"));
    if (length == 0 || offset + length < offset) {
      return absl::InvalidArgumentError(absl::StrCat("bad range ", offset, "+", length));
    }
    TIDE_ASSIGN_OR_RETURN(std::string path, UnescapePath(rest));
    profile.reads.push_back(ProfileRead{layer, std::move(path), offset, length});
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown keyword \"", Sv(keyword), "\""));
}

}  // namespace

int StartupProfile::FindLayer(const Digest& digest) const {
  for (size_t i = 0; i < layers.size(); ++i) {
    if (layers[i] == digest) return static_cast<int>(i);
  }
  return -1;
}

size_t StartupProfile::AddLayer(const Digest& digest) {
  int found = FindLayer(digest);
  if (found >= 0) return static_cast<size_t>(found);
  layers.push_back(digest);
  return layers.size() - 1;
}

void StartupProfile::AddRead(size_t layer, std::string path, uint64_t offset, uint64_t length) {
  if (length == 0) return;
  if (!reads.empty()) {
    ProfileRead& last = reads.back();
    if (last.layer == layer && last.path == path && offset >= last.offset &&
        offset <= last.offset + last.length) {
      last.length = std::max(last.offset + last.length, offset + length) - last.offset;
      return;
    }
  }
  reads.push_back(ProfileRead{layer, std::move(path), offset, length});
}

std::vector<format::StartupFile> StartupProfile::StartupFilesOf(size_t layer) const {
  std::vector<format::StartupFile> files;
  std::map<std::string, size_t> slot;
  for (size_t i = 0; i < reads.size(); ++i) {
    const ProfileRead& r = reads[i];
    if (r.layer != layer) continue;
    auto [it, inserted] = slot.emplace(r.path, files.size());
    // The read's place in the profile is its place in the image-wide access order.
    uint32_t rank = static_cast<uint32_t>(std::min<size_t>(i, format::kUnknownStartupRank - 1));
    if (inserted) files.push_back(format::StartupFile{r.path, {}, rank});
    files[it->second].ranges.push_back({r.offset, r.length});
  }
  for (format::StartupFile& f : files) {
    auto& ranges = f.ranges;
    std::sort(ranges.begin(), ranges.end(), [](const auto& a, const auto& b) { return a.offset < b.offset; });
    std::vector<format::StartupFile::Range> merged;
    for (const auto& r : ranges) {
      if (!merged.empty() && r.offset <= merged.back().offset + merged.back().length) {
        uint64_t end = std::max(merged.back().offset + merged.back().length, r.offset + r.length);
        merged.back().length = end - merged.back().offset;
      } else {
        merged.push_back(r);
      }
    }
    ranges = std::move(merged);
  }
  return files;
}

absl::StatusOr<StartupProfile> ParseProfile(std::string_view text, std::string_view source) {
  StartupProfile profile;
  size_t line_no = 0;
  bool seen_magic = false;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    if (!seen_magic) {
      if (line != kMagic) {
        return absl::InvalidArgumentError(absl::StrCat(
            Sv(source), ":", line_no, ": not a tide profile (want \"", Sv(kMagic), "\" as the first line)"));
      }
      seen_magic = true;
      continue;
    }
    absl::Status s = ParseLine(line, profile);
    if (!s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(Sv(source), ":", line_no, ": ", s.message()));
    }
  }
  if (!seen_magic) return absl::InvalidArgumentError(absl::StrCat(Sv(source), ": empty profile"));
  return profile;
}

std::string SerializeProfile(const StartupProfile& profile) {
  std::string out = absl::StrCat(Sv(kMagic), "\n");
  for (size_t i = 0; i < profile.layers.size(); ++i) {
    absl::StrAppend(&out, "layer ", i, " ", profile.layers[i].str(), "\n");
  }
  for (const ProfileRead& r : profile.reads) {
    absl::StrAppend(&out, "read ", r.layer, " ", r.offset, " ", r.length, " ", EscapePath(r.path), "\n");
  }
  return out;
}

absl::StatusOr<StartupProfile> ReadProfileFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("profile ", path, ": cannot open"));
  std::stringstream buf;
  buf << in.rdbuf();
  return ParseProfile(buf.str(), path);
}

absl::Status WriteProfileFile(const StartupProfile& profile, const std::string& path) {
  absl::Status s = WriteFileAtomically(path, SerializeProfile(profile));
  if (!s.ok()) return absl::Status(s.code(), absl::StrCat("profile ", path, ": ", s.message()));
  return s;
}

}  // namespace tide::profile
