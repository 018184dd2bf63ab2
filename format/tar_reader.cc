#include "format/tar_reader.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "format/tar_entry_from_header.h"
#include "format/tar_header.h"
#include "format/tar_path.h"
#include "format/tar_quote.h"

namespace tide::format {
namespace {

uint64_t PaddingFor(uint64_t size) { return (kTarBlockSize - size % kTarBlockSize) % kTarBlockSize; }

absl::Status EntryError(const std::string& name, uint64_t offset, absl::string_view reason) {
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("tar header at offset ", offset, ": ", reason));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("tar entry ", QuoteTarText(name), " at offset ", offset, ": ", reason));
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

absl::StatusOr<size_t> TarReader::ReadUpToBlock(char* block) {
  size_t got = 0;
  while (got < kTarBlockSize) {
    TIDE_ASSIGN_OR_RETURN(size_t n, source_.Read(block + got, kTarBlockSize - got));
    if (n == 0) break;
    got += n;
  }
  return got;
}

absl::StatusOr<bool> TarReader::ReadHeaderBlock(char* block, const TarExtensions& ext, TarEntry* e) {
  uint64_t block_offset = offset_;
  TIDE_ASSIGN_OR_RETURN(size_t got, ReadUpToBlock(block));
  // A clean end of input between entries ends the archive, as in Go's archive/tar.
  if (got == 0) return EndArchive(ext, block_offset, *e, {});
  if (got < kTarBlockSize) {
    return EntryError(current_name_, block_offset, "truncated archive (input ends inside a header)");
  }
  offset_ += kTarBlockSize;
  if (!IsZeroBlock(block)) return true;
  char second[kTarBlockSize];
  TIDE_ASSIGN_OR_RETURN(got, ReadUpToBlock(second));
  offset_ += got;
  if (got > 0 && got < kTarBlockSize) {
    return EntryError(current_name_, block_offset,
                      "truncated archive (input ends inside the end-of-archive marker)");
  }
  if (got == kTarBlockSize && !IsZeroBlock(second)) {
    return EntryError(current_name_, block_offset,
                      "a zero block is followed by a header block, not by a second zero block");
  }
  std::string marker(block, kTarBlockSize);
  marker.append(second, got);
  return EndArchive(ext, block_offset, *e, marker);
}

absl::StatusOr<bool> TarReader::EndArchive(const TarExtensions& ext, uint64_t offset, const TarEntry& e,
                                           std::string_view marker) {
  if (ext.pending()) return EntryError(current_name_, offset, "extension header is not followed by an entry");
  at_end_ = true;
  trailer_prefix_ = e.raw_header;
  trailer_prefix_.append(marker);
  return false;
}

absl::Status TarReader::ReadExtension(const TarHeaderFields& h, uint64_t block_offset, TarExtensions* ext,
                                      TarEntry* e) {
  absl::Status st = ext->Reserve(h.typeflag, h.size);
  if (!st.ok()) return EntryError(current_name_, block_offset, st.message());
  uint64_t size = static_cast<uint64_t>(h.size);
  uint64_t padded = size + PaddingFor(size);
  std::string data(padded, '\0');
  if (!ReadFull(source_, data.data(), padded, "tar extension header").ok()) {
    return EntryError(current_name_, block_offset,
                      "truncated archive (input ends inside an extension header)");
  }
  offset_ += padded;
  e->raw_header.append(data);
  data.resize(static_cast<size_t>(size));
  st = ext->Add(h.typeflag, std::move(data));
  if (!st.ok()) return EntryError(current_name_, block_offset, st.message());
  return absl::OkStatus();
}

absl::Status TarReader::DecodeEntry(TarHeaderFields h, uint64_t block_offset, const TarExtensions& ext,
                                    TarEntry* e) {
  absl::Status st = ext.ApplyTo(&h);
  current_name_ = h.name;
  if (st.ok()) st = EntryFromHeader(h, e);
  if (st.ok()) st = ResolveEntryPaths(e);
  if (!st.ok()) return EntryError(current_name_, block_offset, st.message());
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
    TIDE_ASSIGN_OR_RETURN(bool header, ReadHeaderBlock(block, ext, e));
    if (!header) return false;
    e->raw_header.append(block, kTarBlockSize);
    current_name_ = std::string(TarString(block, kTarName));
    if (!TarChecksumOk(block)) return EntryError(current_name_, block_offset, "bad header checksum");
    auto h = ParseHeaderFields(block);
    if (!h.ok()) return EntryError(current_name_, block_offset, h.status().message());
    current_name_ = h->name;
    // Go checks the size field before any extension header can change it.
    if (!IsHeaderOnlyTypeflag(h->typeflag) && h->size < 0) {
      return EntryError(current_name_, block_offset, "negative size");
    }
    if (!TarExtensions::IsExtensionTypeflag(h->typeflag)) {
      TIDE_RETURN_IF_ERROR(DecodeEntry(*std::move(h), block_offset, ext, e));
      BeginContent(e);
      return true;
    }
    TIDE_RETURN_IF_ERROR(ReadExtension(*h, block_offset, &ext, e));
  }
}

absl::StatusOr<size_t> TarReader::ReadData(char* buffer, size_t size) {
  size_t want = static_cast<size_t>(std::min<uint64_t>(size, remaining_data_));
  if (want == 0) return 0;
  TIDE_ASSIGN_OR_RETURN(size_t n, source_.Read(buffer, want));
  if (n == 0) {
    return absl::DataLossError(absl::StrCat("tar entry ", QuoteTarText(current_name_),
                                            ": truncated archive (", remaining_data_,
                                            " content bytes missing)"));
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
    return absl::DataLossError(absl::StrCat("tar entry ", QuoteTarText(current_name_),
                                            ": truncated archive (input ends inside padding)"));
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
