// libFuzzer target: the ELF program-header reader behind the loader read-ahead, which reads the
// head of any large file an image's process opens. Input: 8 bytes of file size (LE), then the head.
// Every range must lie inside the file, be non-empty, and there must be at most 8 of them; the
// layout, dynamic-section and constructor readers stay within their bounds on the same bytes.

#include <cstring>
#include <span>

#include "format/elf_load_ranges.h"
#include "test/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  uint64_t file_size = 0;
  std::memcpy(&file_size, data, 8);
  std::span<const char> head(reinterpret_cast<const char*>(data) + 8, size - 8);
  const auto ranges = tide::format::ElfLoadRanges(head, file_size);
  FUZZ_CHECK(ranges.size() <= 8);
  for (const auto& r : ranges) {
    FUZZ_CHECK(r.length > 0);
    FUZZ_CHECK(r.offset < file_size);
    FUZZ_CHECK(r.length <= file_size - r.offset);
  }
  const auto layout = tide::format::ElfLayoutOf(head, file_size);
  FUZZ_CHECK(layout.loads.size() <= 16);
  FUZZ_CHECK(layout.dynamic.length <= (64 << 10));
  FUZZ_CHECK(layout.dynamic.length == 0 || layout.dynamic.offset + layout.dynamic.length <= file_size);
  // The same bytes read as a dynamic section.
  const auto dynamic = tide::format::ParseElfDynamic(head);
  FUZZ_CHECK(dynamic.needed.size() <= 256);
  // And as an init array: every constructor lies in an executable segment, inside the file.
  const auto init = tide::format::ElfInitCode(layout, dynamic, head);
  FUZZ_CHECK(init.size() <= 4096);
  for (uint64_t offset : init) {
    bool in_code = false;
    for (const auto& l : layout.loads)
      in_code |= l.executable && offset >= l.offset && offset - l.offset < l.filesz;
    FUZZ_CHECK(in_code && offset < file_size);
  }
  return 0;
}
