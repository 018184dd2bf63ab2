#include "format/tar_reader.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "format/tar_header.h"
#include "format/tar_path.h"

namespace tide::format {
namespace {

constexpr uint64_t kMaxPaxSize = 1u << 20;
constexpr uint64_t kMaxLongNameSize = 64u << 10;

uint64_t PaddingFor(uint64_t size) { return (kTarBlockSize - size % kTarBlockSize) % kTarBlockSize; }

// Extension headers seen before a main header.
struct Pending {
  std::vector<std::pair<std::string, std::string>> pax;
  std::optional<std::string> gnu_long_name;
  std::optional<std::string> gnu_long_link;
};

absl::Status EntryError(const std::string& name, uint64_t offset, absl::string_view reason) {
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("tar header at offset ", offset, ": ", reason));
  }
  return absl::InvalidArgumentError(absl::StrCat("tar entry '", name, "' at offset ", offset, ": ", reason));
}

std::optional<EntryType> MapType(char flag, std::string_view name) {
  switch (flag) {
    case '0':
    case '7':
      return EntryType::kRegular;
    case '\0':
      return absl::EndsWith(Sv(name), "/") ? EntryType::kDirectory : EntryType::kRegular;
    case '1':
      return EntryType::kHardlink;
    case '2':
      return EntryType::kSymlink;
    case '3':
      return EntryType::kCharDevice;
    case '4':
      return EntryType::kBlockDevice;
    case '5':
      return EntryType::kDirectory;
    case '6':
      return EntryType::kFifo;
    default:
      return std::nullopt;
  }
}

std::string TypeflagText(char flag) {
  if (flag >= 0x21 && flag < 0x7f) return absl::StrCat("'", std::string(1, flag), "'");
  return absl::StrCat("0x", absl::Hex(static_cast<unsigned char>(flag)));
}

absl::Status ApplyPax(const std::vector<std::pair<std::string, std::string>>& records, bool global,
                      TarEntry* e, bool* size_set) {
  for (const auto& [key, value] : records) {
    if (key == "path") {
      if (!global) e->raw_name = value;
    } else if (key == "linkpath") {
      if (!global) e->link_target = value;
    } else if (key == "size") {
      TIDE_ASSIGN_OR_RETURN(e->size, ParsePaxUnsigned(value, key));
      *size_set = true;
    } else if (key == "mtime") {
      TIDE_RETURN_IF_ERROR(ParsePaxTime(value, &e->mtime_sec, &e->mtime_nsec));
    } else if (key == "uid" || key == "gid") {
      TIDE_ASSIGN_OR_RETURN(uint64_t id, ParsePaxUnsigned(value, key));
      if (id > UINT32_MAX)
        return absl::InvalidArgumentError(absl::StrCat("PAX ", key, " ", id, " too large"));
      (key == "uid" ? e->uid : e->gid) = static_cast<uint32_t>(id);
    } else if (key == "uname") {
      e->uname = value;
    } else if (key == "gname") {
      e->gname = value;
    } else if (absl::StartsWith(key, "SCHILY.xattr.")) {
      std::string name = key.substr(13);
      if (name.empty()) return absl::InvalidArgumentError("PAX xattr record with an empty name");
      auto it =
          std::find_if(e->xattrs.begin(), e->xattrs.end(), [&](const auto& x) { return x.first == name; });
      if (it != e->xattrs.end()) {
        it->second = value;
      } else {
        e->xattrs.emplace_back(std::move(name), value);
      }
    } else if (absl::StartsWith(key, "GNU.sparse.")) {
      return absl::UnimplementedError("GNU sparse files are not supported");
    }
    // Other keys (atime, ctime, comment, charset, ...) do not affect the entry.
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status TarReader::ReadBlock(char* block, std::string_view what) {
  TIDE_RETURN_IF_ERROR(ReadFull(source_, block, kTarBlockSize, what));
  offset_ += kTarBlockSize;
  return absl::OkStatus();
}

absl::Status TarReader::SkipRest() {
  char buf[16384];
  while (remaining_data_ > 0) {
    TIDE_ASSIGN_OR_RETURN(size_t n, ReadData(buf, sizeof(buf)));
    (void)n;
  }
  if (remaining_padding_ > 0) {
    TIDE_ASSIGN_OR_RETURN(std::string pad, ReadPadding());
  }
  in_entry_ = false;
  return absl::OkStatus();
}

absl::StatusOr<bool> TarReader::Next(TarEntry* e) {
  if (at_end_) return false;
  if (in_entry_) TIDE_RETURN_IF_ERROR(SkipRest());
  *e = TarEntry();
  e->header_offset = offset_;
  Pending pending;
  char block[kTarBlockSize];
  while (true) {
    uint64_t block_offset = offset_;
    // A clean end of input between entries is accepted as the end of the archive, as Go's
    // archive/tar (containerd's reader) does.
    auto first = source_.Read(block, kTarBlockSize);
    if (!first.ok()) return first.status();
    if (*first == 0 && e->raw_header.empty()) {
      at_end_ = true;
      return false;
    }
    if (*first < kTarBlockSize) {
      auto rest = ReadFull(source_, block + *first, kTarBlockSize - *first, "tar header");
      if (!rest.ok()) {
        return EntryError(current_name_, block_offset, "truncated archive (input ends inside a header)");
      }
    }
    offset_ += kTarBlockSize;
    if (IsZeroBlock(block)) {
      if (!e->raw_header.empty()) {
        return EntryError(current_name_, block_offset, "extension header is not followed by an entry");
      }
      at_end_ = true;
      trailer_prefix_.assign(block, kTarBlockSize);
      return false;
    }
    e->raw_header.append(block, kTarBlockSize);
    std::string header_name(TarString(block, kTarName));
    current_name_ = header_name;
    if (!TarChecksumOk(block)) return EntryError(header_name, block_offset, "bad header checksum");
    char flag = block[kTarTypeflag];
    if (flag == 'x' || flag == 'g' || flag == 'L' || flag == 'K') {
      auto size = TarNumber(block, kTarSize, "size");
      if (!size.ok()) return EntryError(header_name, block_offset, size.status().message());
      uint64_t limit = (flag == 'x' || flag == 'g') ? kMaxPaxSize : kMaxLongNameSize;
      if (*size < 0 || static_cast<uint64_t>(*size) > limit) {
        return EntryError(header_name, block_offset,
                          absl::StrCat("extension header of ", *size, " bytes is too large"));
      }
      uint64_t padded = static_cast<uint64_t>(*size) + PaddingFor(static_cast<uint64_t>(*size));
      std::string data(padded, '\0');
      if (!ReadFull(source_, data.data(), padded, "tar extension header").ok()) {
        return EntryError(header_name, block_offset,
                          "truncated archive (input ends inside an extension header)");
      }
      offset_ += padded;
      e->raw_header.append(data);
      data.resize(static_cast<size_t>(*size));
      if (flag == 'x' || flag == 'g') {
        auto records = ParsePaxRecords(data);
        if (!records.ok()) return EntryError(header_name, block_offset, records.status().message());
        if (flag == 'g') {
          for (auto& [k, v] : *records) global_pax_[k] = v;
        } else {
          for (auto& r : *records) pending.pax.push_back(std::move(r));
        }
      } else {
        std::string name = data.substr(0, data.find('\0'));
        (flag == 'L' ? pending.gnu_long_name : pending.gnu_long_link) = std::move(name);
      }
      continue;
    }

    // The main header.
    std::string_view magic = TarString(block, kTarMagic);
    bool posix = std::memcmp(block + kTarMagic.offset, "ustar\0", 6) == 0;
    e->raw_name = header_name;
    std::string_view prefix = TarString(block, kTarPrefix);
    if (posix && !prefix.empty()) e->raw_name = absl::StrCat(Sv(prefix), "/", header_name);
    if (pending.gnu_long_name) e->raw_name = *pending.gnu_long_name;
    e->link_target = std::string(TarString(block, kTarLinkname));
    if (pending.gnu_long_link) e->link_target = *pending.gnu_long_link;
    (void)magic;
    if (!magic.empty()) {
      e->uname = std::string(TarString(block, kTarUname));
      e->gname = std::string(TarString(block, kTarGname));
    }
    auto field = [&](TarField f, std::string_view what) -> absl::StatusOr<int64_t> {
      auto v = TarNumber(block, f, what);
      if (!v.ok()) return EntryError(e->raw_name, block_offset, v.status().message());
      return v;
    };
    TIDE_ASSIGN_OR_RETURN(int64_t mode, field(kTarMode, "mode"));
    TIDE_ASSIGN_OR_RETURN(int64_t uid, field(kTarUid, "uid"));
    TIDE_ASSIGN_OR_RETURN(int64_t gid, field(kTarGid, "gid"));
    TIDE_ASSIGN_OR_RETURN(int64_t size, field(kTarSize, "size"));
    TIDE_ASSIGN_OR_RETURN(e->mtime_sec, field(kTarMtime, "mtime"));
    if (uid < 0 || uid > UINT32_MAX || gid < 0 || gid > UINT32_MAX || size < 0) {
      return EntryError(e->raw_name, block_offset, "uid, gid or size out of range");
    }
    e->mode = static_cast<uint32_t>(mode) & 07777;
    e->uid = static_cast<uint32_t>(uid);
    e->gid = static_cast<uint32_t>(gid);
    e->size = static_cast<uint64_t>(size);
    std::optional<EntryType> type = MapType(flag, e->raw_name);
    if (!type) {
      return EntryError(e->raw_name, block_offset,
                        absl::StrCat("unsupported entry type ", TypeflagText(flag)));
    }
    e->type = *type;
    if (e->type == EntryType::kCharDevice || e->type == EntryType::kBlockDevice) {
      TIDE_ASSIGN_OR_RETURN(int64_t major, field(kTarDevMajor, "devmajor"));
      TIDE_ASSIGN_OR_RETURN(int64_t minor, field(kTarDevMinor, "devminor"));
      if (major < 0 || major > UINT32_MAX || minor < 0 || minor > UINT32_MAX) {
        return EntryError(e->raw_name, block_offset, "device number out of range");
      }
      e->dev_major = static_cast<uint32_t>(major);
      e->dev_minor = static_cast<uint32_t>(minor);
    }
    bool size_set = false;
    std::vector<std::pair<std::string, std::string>> global(global_pax_.begin(), global_pax_.end());
    absl::Status st = ApplyPax(global, true, e, &size_set);
    if (st.ok()) st = ApplyPax(pending.pax, false, e, &size_set);
    if (!st.ok()) return EntryError(e->raw_name, block_offset, st.message());
    current_name_ = e->raw_name;

    auto path = NormalizeTarPath(e->raw_name);
    if (!path.ok()) return EntryError(e->raw_name, block_offset, path.status().message());
    e->path = std::move(*path);
    if (e->type == EntryType::kHardlink) {
      auto target = NormalizeTarPath(e->link_target);
      if (!target.ok()) {
        return EntryError(e->raw_name, block_offset,
                          absl::StrCat("hardlink target: ", target.status().message()));
      }
      if (target->empty()) return EntryError(e->raw_name, block_offset, "hardlink to the root directory");
      e->link_target = std::move(*target);
    } else if (e->type == EntryType::kSymlink) {
      if (e->link_target.empty())
        return EntryError(e->raw_name, block_offset, "symlink with an empty target");
    } else {
      e->link_target.clear();
    }
    // Only regular files carry content; Go's archive/tar (containerd) ignores the size of the others.
    if (e->type != EntryType::kRegular) e->size = 0;
    e->data_offset = offset_;
    remaining_data_ = e->size;
    remaining_padding_ = PaddingFor(e->size);
    in_entry_ = true;
    return true;
  }
}

absl::StatusOr<size_t> TarReader::ReadData(char* buffer, size_t size) {
  size_t want = static_cast<size_t>(std::min<uint64_t>(size, remaining_data_));
  if (want == 0) return 0;
  TIDE_ASSIGN_OR_RETURN(size_t n, source_.Read(buffer, want));
  if (n == 0) {
    return absl::DataLossError(absl::StrCat("tar entry '", current_name_, "': truncated archive (",
                                            remaining_data_, " content bytes missing)"));
  }
  remaining_data_ -= n;
  offset_ += n;
  return n;
}

absl::StatusOr<std::string> TarReader::ReadPadding() {
  if (remaining_data_ > 0)
    return absl::FailedPreconditionError("ReadPadding before the entry's content was read");
  std::string pad(static_cast<size_t>(remaining_padding_), '\0');
  if (!ReadFull(source_, pad.data(), pad.size(), "tar padding").ok()) {
    return absl::DataLossError(
        absl::StrCat("tar entry '", current_name_, "': truncated archive (input ends inside padding)"));
  }
  offset_ += pad.size();
  remaining_padding_ = 0;
  in_entry_ = remaining_data_ > 0;
  return pad;
}

absl::StatusOr<size_t> TarReader::ReadTrailer(char* buffer, size_t size) {
  if (!at_end_) return absl::FailedPreconditionError("ReadTrailer before the end of the archive");
  if (trailer_pos_ < trailer_prefix_.size()) {
    size_t n = std::min(size, trailer_prefix_.size() - trailer_pos_);
    std::memcpy(buffer, trailer_prefix_.data() + trailer_pos_, n);
    trailer_pos_ += n;
    return n;
  }
  TIDE_ASSIGN_OR_RETURN(size_t n, source_.Read(buffer, size));
  offset_ += n;
  return n;
}

}  // namespace tide::format
