#include "test/integration/tar_differential/tar_listing.h"

#include <algorithm>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/sha256.h"
#include "format/byte_io.h"
#include "format/tar_reader.h"

namespace tide::testing {
namespace {

using format::EntryType;
using format::TarEntry;

std::string TypeName(EntryType type) {
  switch (type) {
    case EntryType::kRegular:
      return "reg";
    case EntryType::kHardlink:
      return "hardlink";
    case EntryType::kSymlink:
      return "symlink";
    case EntryType::kCharDevice:
      return "char";
    case EntryType::kBlockDevice:
      return "block";
    case EntryType::kDirectory:
      return "dir";
    case EntryType::kFifo:
      return "fifo";
  }
  return "unknown";
}

std::string Line(const TarEntry& e, uint64_t size, const std::string& digest) {
  std::vector<std::string> fields = {
      TypeName(e.type),
      "name=" + EscapeListingText(e.raw_name),
      "path=" + EscapeListingText(e.path),
      absl::StrFormat("mode=%o", e.mode),
      absl::StrCat("uid=", e.uid),
      absl::StrCat("gid=", e.gid),
      "uname=" + EscapeListingText(e.uname),
      "gname=" + EscapeListingText(e.gname),
      absl::StrFormat("mtime=%d.%09d", e.mtime_sec, e.mtime_nsec),
      absl::StrCat("size=", size),
      "sha256=" + digest,
  };
  if (e.type == EntryType::kSymlink || e.type == EntryType::kHardlink) {
    fields.push_back("link=" + EscapeListingText(e.link_target));
  } else if (e.type == EntryType::kCharDevice || e.type == EntryType::kBlockDevice) {
    fields.push_back(absl::StrCat("dev=", e.dev_major, ",", e.dev_minor));
  }
  std::vector<std::string> xattrs;
  for (const auto& [key, value] : e.xattrs) {
    xattrs.push_back("xattr=" + EscapeListingText(key) + ":" + EscapeListingText(value));
  }
  std::sort(xattrs.begin(), xattrs.end());
  fields.insert(fields.end(), xattrs.begin(), xattrs.end());
  return absl::StrJoin(fields, " ");
}

// Reads the current entry's content and padding; returns its size and sha256 ("-" for entries
// without content, as Go's lister prints).
absl::StatusOr<std::pair<uint64_t, std::string>> ReadContent(format::TarReader& reader, const TarEntry& e) {
  Sha256 hash;
  uint64_t size = 0;
  char buf[65536];
  while (true) {
    auto n = reader.ReadData(buf, sizeof(buf));
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    hash.Update(buf, *n);
    size += *n;
  }
  auto pad = reader.ReadPadding();
  if (!pad.ok()) return pad.status();
  if (e.type != EntryType::kRegular) return std::make_pair(uint64_t{0}, std::string("-"));
  return std::make_pair(size, HexEncode(hash.Finish()));
}

}  // namespace

std::string EscapeListingText(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (c > 0x20 && c < 0x7f && c != '%' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += absl::StrFormat("%%%02x", c);
    }
  }
  return out;
}

std::string ListWithTide(const std::string& tar) {
  format::StringSource source(tar);
  format::TarReader reader(source);
  TarEntry e;
  std::string out;
  while (true) {
    auto more = reader.Next(&e);
    if (!more.ok()) return out + "ERROR " + EscapeListingText(std::string(more.status().message())) + "\n";
    if (!*more) break;
    auto content = ReadContent(reader, e);
    if (!content.ok()) {
      return out + "ERROR " + EscapeListingText(std::string(content.status().message())) + "\n";
    }
    out += Line(e, content->first, content->second) + "\n";
  }
  return out + "END\n";
}

}  // namespace tide::testing
