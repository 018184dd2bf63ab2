#ifndef TIDE_FORMAT_TAR_READER_H_
#define TIDE_FORMAT_TAR_READER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "format/byte_io.h"
#include "format/tar_entry.h"
#include "format/tar_extensions.h"
#include "format/tar_header_fields.h"

namespace tide::format {

// A streaming ustar / GNU / PAX tar reader that hands out the exact bytes it consumed, so a writer
// can re-emit the stream byte for byte. It reads an archive as Go's archive/tar does, which is what
// containerd unpacks layers with, so a converted layer holds the tree containerd would extract; what
// it cannot read the same way it rejects (docs/format.md lists both). Usage:
//   while (Next(&e) is true) { ReadData(...) until it returns 0; ReadPadding(); }
//   then ReadTrailer() until it returns 0.
// Errors name the entry (quoted with QuoteTarText) and the reason: absolute paths, ".." components,
// truncation, bad header checksums or numeric fields, unsupported entry types (GNU sparse,
// contiguous, multi-volume, ...), malformed PAX records, too many extension headers in a row.
class TarReader {
 public:
  explicit TarReader(ByteSource& source) : source_(source) {}

  // Reads the next entry's headers. Returns false at the end-of-archive marker (or at a clean end of
  // input between entries). Skips whatever content of the previous entry was not read.
  absl::StatusOr<bool> Next(TarEntry* entry);
  // Reads up to `size` bytes of the current entry's content; 0 at its end.
  absl::StatusOr<size_t> ReadData(char* buffer, size_t size);
  // The current entry's padding up to the next 512-byte block (as in the input; usually zeros).
  // Call after all content was read.
  absl::StatusOr<std::string> ReadPadding();
  // After Next() returned false: the remaining raw bytes (PAX global headers after the last entry,
  // end-of-archive blocks, record padding and anything after), up to `size` at a time; 0 at end of
  // input.
  absl::StatusOr<size_t> ReadTrailer(char* buffer, size_t size);

  // Bytes consumed so far (the stream offset).
  uint64_t offset() const { return offset_; }

 private:
  absl::Status SkipRest();
  // Reads up to one block, short only at the end of input.
  absl::StatusOr<size_t> ReadUpToBlock(char* block);
  // Reads the next header block. Returns false at the end of the archive: a clean end of input, or
  // a zero block followed by a second one or by the end of input (as in Go's archive/tar; a zero
  // block followed by anything else is an error).
  absl::StatusOr<bool> ReadHeaderBlock(char* block, const TarExtensions& ext, TarEntry* e);
  // Ends the archive after `marker` (the end-of-archive blocks read, if any). Ignored 'g' headers
  // before it stay in the byte stream: they are handed out by ReadTrailer first.
  absl::StatusOr<bool> EndArchive(const TarExtensions& ext, uint64_t offset, const TarEntry& e,
                                  std::string_view marker);
  // Reads an extension header's data into `ext` and e->raw_header.
  absl::Status ReadExtension(const TarHeaderFields& h, uint64_t block_offset, TarExtensions* ext,
                             TarEntry* e);
  // Applies the extensions to the main header, fills the entry and checks its paths.
  absl::Status DecodeEntry(TarHeaderFields h, uint64_t block_offset, const TarExtensions& ext, TarEntry* e);
  // Positions the reader at the entry's content.
  void BeginContent(TarEntry* e);

  ByteSource& source_;
  uint64_t offset_ = 0;
  uint64_t remaining_data_ = 0;
  uint64_t remaining_padding_ = 0;
  bool in_entry_ = false;
  bool at_end_ = false;
  std::string trailer_prefix_;  // bytes of the end marker already consumed, handed out first
  size_t trailer_pos_ = 0;
  std::string current_name_;
};

}  // namespace tide::format

#endif  // TIDE_FORMAT_TAR_READER_H_
