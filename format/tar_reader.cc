#include "format/tar_reader.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "format/tar_header.h"
#include "format/tar_header_fields.h"
#include "format/tar_path.h"

namespace tide::format {
namespace {

uint64_t PaddingFor(uint64_t size) { return (kTarBlockSize - size % kTarBlockSize) % kTarBlockSize; }

absl::Status EntryError(const std::string& name, uint64_t offset, absl::string_view reason) {
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("tar header at offset ", offset, ": ", reason));
  }
  return absl::InvalidArgumentError(absl::StrCat("tar entry '", name, "' at offset ", offset, ": ", reason));
}

}  // namespace

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

absl::StatusOr<bool> TarReader::ReadHeaderBlock(char* block, const TarEntry& e) {
  uint64_t block_offset = offset_;
  // A clean end of input between entries is accepted as the end of the archive, as Go's
  // archive/tar (containerd's reader) does.
  TIDE_ASSIGN_OR_RETURN(size_t first, source_.Read(block, kTarBlockSize));
  if (first == 0 && e.raw_header.empty()) {
    at_end_ = true;
    return false;
  }
  if (first < kTarBlockSize) {
    auto rest = ReadFull(source_, block + first, kTarBlockSize - first, "tar header");
    if (!rest.ok()) {
      return EntryError(current_name_, block_offset, "truncated archive (input ends inside a header)");
    }
  }
  offset_ += kTarBlockSize;
  if (!IsZeroBlock(block)) return true;
  if (!e.raw_header.empty()) {
    return EntryError(current_name_, block_offset, "extension header is not followed by an entry");
  }
  at_end_ = true;
  trailer_prefix_.assign(block, kTarBlockSize);
  return false;
}

absl::Status TarReader::ReadExtension(const char* block, uint64_t block_offset, TarExtensions* ext,
                                      TarEntry* e) {
  const std::string& name = current_name_;
  auto size = TarNumber(block, kTarSize, "size");
  if (!size.ok()) return EntryError(name, block_offset, size.status().message());
  char flag = block[kTarTypeflag];
  if (*size < 0 || static_cast<uint64_t>(*size) > MaxExtensionSize(flag)) {
    return EntryError(name, block_offset, absl::StrCat("extension header of ", *size, " bytes is too large"));
  }
  uint64_t padded = static_cast<uint64_t>(*size) + PaddingFor(static_cast<uint64_t>(*size));
  std::string data(padded, '\0');
  if (!ReadFull(source_, data.data(), padded, "tar extension header").ok()) {
    return EntryError(name, block_offset, "truncated archive (input ends inside an extension header)");
  }
  offset_ += padded;
  e->raw_header.append(data);
  data.resize(static_cast<size_t>(*size));
  absl::Status st = AddExtension(flag, std::move(data), ext, &global_pax_);
  if (!st.ok()) return EntryError(name, block_offset, st.message());
  return absl::OkStatus();
}

absl::Status TarReader::DecodeEntry(const char* block, uint64_t block_offset, const TarExtensions& ext,
                                    TarEntry* e) {
  absl::Status st = DecodeHeaderFields(block, ext, e);
  if (st.ok()) st = ApplyPaxRecords(global_pax_, ext, e);
  if (!st.ok()) return EntryError(e->raw_name, block_offset, st.message());
  current_name_ = e->raw_name;
  st = ResolveEntryPaths(e);
  if (!st.ok()) return EntryError(e->raw_name, block_offset, st.message());
  // Only regular files carry content; Go's archive/tar (containerd) ignores the size of the others.
  if (e->type != EntryType::kRegular) e->size = 0;
  return absl::OkStatus();
}

void TarReader::BeginContent(TarEntry* e) {
  e->data_offset = offset_;
  remaining_data_ = e->size;
  remaining_padding_ = PaddingFor(e->size);
  in_entry_ = true;
}

absl::StatusOr<bool> TarReader::Next(TarEntry* e) {
  if (at_end_) return false;
  if (in_entry_) TIDE_RETURN_IF_ERROR(SkipRest());
  *e = TarEntry();
  e->header_offset = offset_;
  TarExtensions ext;
  char block[kTarBlockSize];
  while (true) {
    uint64_t block_offset = offset_;
    TIDE_ASSIGN_OR_RETURN(bool header, ReadHeaderBlock(block, *e));
    if (!header) return false;
    e->raw_header.append(block, kTarBlockSize);
    current_name_ = std::string(TarString(block, kTarName));
    if (!TarChecksumOk(block)) return EntryError(current_name_, block_offset, "bad header checksum");
    if (!IsExtensionTypeflag(block[kTarTypeflag])) {
      TIDE_RETURN_IF_ERROR(DecodeEntry(block, block_offset, ext, e));
      BeginContent(e);
      return true;
    }
    TIDE_RETURN_IF_ERROR(ReadExtension(block, block_offset, &ext, e));
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
