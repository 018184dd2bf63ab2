#ifndef TIDE_FORMAT_TAR_READER_H_
#define TIDE_FORMAT_TAR_READER_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "format/byte_io.h"
#include "format/tar_entry.h"
#include "format/tar_extensions.h"

namespace tide::format {

// A streaming ustar / GNU / PAX tar reader that hands out the exact bytes it consumed, so a writer
// can re-emit the stream byte for byte. Usage:
//   while (Next(&e) is true) { ReadData(...) until it returns 0; ReadPadding(); }
//   then ReadTrailer() until it returns 0.
// Errors name the entry and the reason: absolute paths, ".." components, truncation, bad header
// checksums, unsupported entry types (GNU sparse, multi-volume, ...), malformed PAX records.
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
  // After Next() returned false: the remaining raw bytes (end-of-archive blocks, record padding and
  // anything after), up to `size` at a time; 0 at end of input.
  absl::StatusOr<size_t> ReadTrailer(char* buffer, size_t size);

  // Bytes consumed so far (the stream offset).
  uint64_t offset() const { return offset_; }

 private:
  absl::Status SkipRest();
  // Reads the next header block. Returns false at the end of the archive: a clean end of input or
  // a zero block (kept in trailer_prefix_), neither of which may follow an extension header.
  absl::StatusOr<bool> ReadHeaderBlock(char* block, const TarEntry& e);
  // Reads an extension header's data into `ext` (or global_pax_) and e->raw_header.
  absl::Status ReadExtension(const char* block, uint64_t block_offset, TarExtensions* ext, TarEntry* e);
  // Decodes the main header block with its extensions applied and checks the entry's paths.
  absl::Status DecodeEntry(const char* block, uint64_t block_offset, const TarExtensions& ext, TarEntry* e);
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
  std::map<std::string, std::string> global_pax_;
  std::string current_name_;
};

}  // namespace tide::format

#endif  // TIDE_FORMAT_TAR_READER_H_
