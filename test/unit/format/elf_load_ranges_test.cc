#include "format/elf_load_ranges.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <string>

#include "format/le_bytes.h"

namespace tide::format {
namespace {

struct Segment {
  uint32_t type;
  uint32_t flags;
  uint64_t offset;
  uint64_t filesz;
};

// A 64-bit little-endian ELF header followed by its program headers.
std::string ElfHead(const std::vector<Segment>& segments, uint16_t phnum_claimed = 0) {
  std::string h(
      "\x7f"
      "ELF",
      4);
  h += '\x02';  // ELFCLASS64
  h += '\x01';  // little endian
  h.resize(32, '\0');
  PutLe64(&h, 64);  // e_phoff
  h.resize(54, '\0');
  h += std::string("\x38\x00", 2);  // e_phentsize 56
  const uint16_t phnum = phnum_claimed ? phnum_claimed : static_cast<uint16_t>(segments.size());
  h += static_cast<char>(phnum & 0xff);
  h += static_cast<char>(phnum >> 8);
  h.resize(64, '\0');
  for (const Segment& s : segments) {
    PutLe32(&h, s.type);
    PutLe32(&h, s.flags);
    PutLe64(&h, s.offset);
    PutLe64(&h, s.offset);  // vaddr
    PutLe64(&h, s.offset);  // paddr
    PutLe64(&h, s.filesz);
    PutLe64(&h, s.filesz);  // memsz
    PutLe64(&h, 0x1000);    // align
  }
  return h;
}

std::vector<std::pair<uint64_t, uint64_t>> Ranges(const std::string& head, uint64_t size) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const FileRange& r : ElfLoadRanges(std::span<const char>(head.data(), head.size()), size))
    out.emplace_back(r.offset, r.length);
  return out;
}

const std::vector<Segment> kSharedObject = {
    {1, 4, 0, 0x1000},       // LOAD R: headers, dynsym, dynstr, relocations
    {1, 5, 0x1000, 0x5000},  // LOAD R E: code
    {1, 4, 0x6000, 0x2000},  // LOAD R: rodata
    {1, 6, 0x8000, 0x800},   // LOAD RW: data, GOT
    {2, 6, 0x8100, 0x100},   // DYNAMIC
};

TEST_CASE("a shared object's header-and-tables segment and its writable segment are what the loader reads") {
  CHECK(Ranges(ElfHead(kSharedObject), 0x9000) ==
        std::vector<std::pair<uint64_t, uint64_t>>{{0, 0x1000}, {0x8000, 0x800}});
}

TEST_CASE("segments reaching past the file are clipped to it, and ones beyond it dropped") {
  std::vector<Segment> s = kSharedObject;
  s[3].filesz = ~uint64_t{0};
  CHECK(Ranges(ElfHead(s), 0x8400) ==
        std::vector<std::pair<uint64_t, uint64_t>>{{0, 0x1000}, {0x8000, 0x400}});
  CHECK(Ranges(ElfHead(s), 0x7000) == std::vector<std::pair<uint64_t, uint64_t>>{{0, 0x1000}});
}

TEST_CASE("anything but a well-formed 64-bit little-endian ELF head gives no ranges") {
  const std::string good = ElfHead(kSharedObject);
  CHECK(Ranges("", 100).empty());
  CHECK(Ranges(good.substr(0, 63), 0x9000).empty());              // header cut short
  CHECK(Ranges(good.substr(0, 64 + 56 * 2), 0x9000).empty());     // program headers cut short
  CHECK(Ranges(ElfHead(kSharedObject, 0xffff), 0x9000).empty());  // claims more headers than there are
  std::string other = good;
  other[4] = 1;  // ELFCLASS32
  CHECK(Ranges(other, 0x9000).empty());
  other = good;
  other[5] = 2;  // big endian
  CHECK(Ranges(other, 0x9000).empty());
  other = good;
  other[1] = 'X';
  CHECK(Ranges(other, 0x9000).empty());
  other = good;
  other[54] = 8;  // program header entries smaller than the format's
  CHECK(Ranges(other, 0x9000).empty());
  other = good;
  for (int i = 0; i < 8; ++i) other[32 + i] = '\xff';  // e_phoff far past the head
  CHECK(Ranges(other, 0x9000).empty());
}

TEST_CASE("at most eight ranges come from a head listing many writable segments") {
  std::vector<Segment> many(40, Segment{1, 6, 0x100, 0x10});
  CHECK(Ranges(ElfHead(many), 0x1000).size() == 8);
}

TEST_CASE("this test binary's own head lists its first segment from offset 0") {
  std::ifstream in("/proc/self/exe", std::ios::binary);
  std::string head(4096, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  auto ranges = Ranges(head, 1ull << 40);
  REQUIRE_FALSE(ranges.empty());
  CHECK(ranges[0].first == 0);
  CHECK(ranges.size() >= 2);  // and a writable segment
}

TEST_CASE("the dynamic section and the address map come from the program headers") {
  std::vector<Segment> s = kSharedObject;
  s[3].offset = 0x8000;
  const std::string head = ElfHead(s);
  ElfLayout layout = ElfLayoutOf(std::span<const char>(head.data(), head.size()), 0x9000);
  CHECK(layout.dynamic.offset == 0x8100);
  CHECK(layout.dynamic.length == 0x100);
  uint64_t offset = 0;
  CHECK(layout.OffsetOf(0x1234, &offset));
  CHECK(offset == 0x1234);  // vaddr == offset in this test object
  CHECK_FALSE(layout.OffsetOf(0x20000, &offset));
  CHECK(layout.OffsetOf(0x1234, &offset, /*code_only=*/true));       // in the R E segment
  CHECK_FALSE(layout.OffsetOf(0x800, &offset, /*code_only=*/true));  // headers and tables: not code
  CHECK(layout.OffsetOf(0x800, &offset));
  // A dynamic section beyond the file, or over 64 KiB, is not used.
  s[4].offset = 0x10000;
  const std::string beyond = ElfHead(s);
  CHECK(ElfLayoutOf(std::span<const char>(beyond.data(), beyond.size()), 0x9000).dynamic.length == 0);
  s[4] = {2, 6, 0x100, 0x20000};
  const std::string huge = ElfHead(s);
  CHECK(ElfLayoutOf(std::span<const char>(huge.data(), huge.size()), 1 << 20).dynamic.length == 0);
}

TEST_CASE("DT_NEEDED, RUNPATH (else RPATH) and the string table are read from dynamic entries") {
  auto entries = [](const std::vector<std::pair<uint64_t, uint64_t>>& tags) {
    std::string d;
    for (auto [tag, value] : tags) {
      PutLe64(&d, tag);
      PutLe64(&d, value);
    }
    return d;
  };
  std::string d = entries({{1, 10}, {1, 20}, {5, 0x400}, {10, 300}, {15, 40}, {29, 50}, {0, 0}, {1, 99}});
  ElfDynamic dyn = ParseElfDynamic(std::span<const char>(d.data(), d.size()));
  CHECK(dyn.needed == std::vector<uint64_t>{10, 20});  // nothing after DT_NULL
  CHECK(dyn.strtab_vaddr == 0x400);
  CHECK(dyn.strtab_size == 300);
  CHECK(dyn.has_runpath);
  CHECK(dyn.runpath == 50);  // RUNPATH wins over RPATH
  d = entries({{15, 40}});
  dyn = ParseElfDynamic(std::span<const char>(d.data(), d.size()));
  CHECK(dyn.has_runpath);
  CHECK(dyn.runpath == 40);
  std::vector<std::pair<uint64_t, uint64_t>> many(1000, {1, 7});
  d = entries(many);
  d.resize(d.size() - 3);  // a torn last entry is ignored
  CHECK(ParseElfDynamic(std::span<const char>(d.data(), d.size())).needed.size() == 256);
}

TEST_CASE("constructors: DT_INIT, then the DT_INIT_ARRAY entries that point into code, as file offsets") {
  std::string d;
  for (auto [tag, value] :
       std::vector<std::pair<uint64_t, uint64_t>>{{12, 0x201100}, {25, 0x208000}, {27, 40}, {0, 0}}) {
    PutLe64(&d, tag);
    PutLe64(&d, value);
  }
  const ElfDynamic dyn = ParseElfDynamic(std::span<const char>(d.data(), d.size()));
  CHECK(dyn.init == 0x201100);
  CHECK(dyn.init_array_vaddr == 0x208000);
  CHECK(dyn.init_array_size == 40);
  ElfLayout layout;
  layout.loads = {{.offset = 0, .vaddr = 0, .filesz = 0x1000, .executable = false},
                  {.offset = 0x1000, .vaddr = 0x201000, .filesz = 0x5000, .executable = true},
                  {.offset = 0x8000, .vaddr = 0x208000, .filesz = 0x800, .executable = false}};
  std::string array;
  // Code; 0 (left to relocation); data; code again; an address past every segment.
  for (uint64_t fn : {0x202000ull, 0ull, 0x208100ull, 0x205ff0ull, 0x900000ull}) PutLe64(&array, fn);
  CHECK(ElfInitCode(layout, dyn, std::span<const char>(array.data(), array.size())) ==
        std::vector<uint64_t>{0x1100, 0x2000, 0x5ff0});
  array.resize(array.size() - 3);  // a torn last entry is ignored
  CHECK(ElfInitCode(layout, dyn, std::span<const char>(array.data(), array.size())).size() == 3);
  std::string many;
  for (int i = 0; i < 5000; ++i) PutLe64(&many, 0x202000);
  CHECK(ElfInitCode(layout, dyn, std::span<const char>(many.data(), many.size())).size() == 4096);
  CHECK(ElfInitCode(layout, ElfDynamic{}, {}).empty());
}

TEST_CASE("this test binary's own constructors (Catch2 registers its cases in them) lie in its code") {
  std::ifstream in("/proc/self/exe", std::ios::binary);
  const std::string exe((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const ElfLayout layout =
      ElfLayoutOf(std::span<const char>(exe.data(), std::min<size_t>(exe.size(), 4096)), exe.size());
  REQUIRE(layout.dynamic.length != 0);
  const ElfDynamic dyn =
      ParseElfDynamic(std::span<const char>(exe.data() + layout.dynamic.offset, layout.dynamic.length));
  uint64_t array_at = 0;
  REQUIRE(layout.OffsetOf(dyn.init_array_vaddr, &array_at));
  REQUIRE(array_at + dyn.init_array_size <= exe.size());
  const std::vector<uint64_t> code =
      ElfInitCode(layout, dyn, std::span<const char>(exe.data() + array_at, dyn.init_array_size));
  CHECK(code.size() >= 2);  // frame_dummy and the static objects of these test cases
  for (uint64_t offset : code) {
    bool in_code = false;
    for (const ElfLayout::Load& l : layout.loads)
      in_code |= l.executable && offset >= l.offset && offset < l.offset + l.filesz;
    CHECK(in_code);
  }
}

}  // namespace
}  // namespace tide::format
