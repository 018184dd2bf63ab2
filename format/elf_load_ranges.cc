#include "format/elf_load_ranges.h"

#include <algorithm>
#include <cstring>

#include "format/le_bytes.h"

namespace tide::format {
namespace {

// ELF64 header and program header fields (System V gABI).
constexpr size_t kElfHeaderSize = 64;
constexpr char kElfMagic[4] = {'\x7f', 'E', 'L', 'F'};
constexpr size_t kPhoffAt = 32;
constexpr size_t kPhentsizeAt = 54;
constexpr size_t kPhnumAt = 56;
constexpr size_t kProgramHeaderSize = 56;
constexpr uint32_t kPtLoad = 1;
constexpr uint32_t kPfExecute = 1;
constexpr uint32_t kPfWrite = 2;
// More ranges than this are not a shared object a loader maps; a bound keeps the work per read small.
constexpr size_t kMaxRanges = 8;
constexpr uint32_t kPtDynamic = 2;
constexpr size_t kMaxLoads = 16;
constexpr uint64_t kMaxDynamicBytes = 64 << 10;
constexpr size_t kMaxNeeded = 256;
// Dynamic section tags (System V gABI).
constexpr uint64_t kDtNull = 0;
constexpr uint64_t kDtNeeded = 1;
constexpr uint64_t kDtStrtab = 5;
constexpr uint64_t kDtStrsz = 10;
constexpr uint64_t kDtRpath = 15;
constexpr uint64_t kDtRunpath = 29;
constexpr uint64_t kDtInit = 12;
constexpr uint64_t kDtInitArray = 25;
constexpr uint64_t kDtInitArraySize = 27;
constexpr size_t kMaxInitCode = 4096;

// The program header table inside `head`; no entries if the head is not a well-formed 64-bit
// little-endian ELF head that holds the whole table.
struct ProgramHeaders {
  const char* first = nullptr;
  uint64_t count = 0;
  uint64_t entry_size = 0;
};
// The fields of one program header that tide uses.
struct ProgramHeader {
  uint32_t type = 0;
  uint32_t flags = 0;
  uint64_t offset = 0;
  uint64_t vaddr = 0;
  uint64_t filesz = 0;
};
ProgramHeader ProgramHeaderAt(const ProgramHeaders& table, uint64_t i) {
  const char* ph = table.first + i * table.entry_size;
  return {GetLe32(ph), GetLe32(ph + 4), GetLe64(ph + 8), GetLe64(ph + 16), GetLe64(ph + 32)};
}
ProgramHeaders FindProgramHeaders(std::span<const char> head) {
  if (head.size() < kElfHeaderSize || std::memcmp(head.data(), kElfMagic, sizeof(kElfMagic)) != 0) return {};
  if (head[4] != 2 /* ELFCLASS64 */ || head[5] != 1 /* ELFDATA2LSB */) return {};
  const uint64_t phoff = GetLe64(head.data() + kPhoffAt);
  const uint64_t phentsize = GetLe16(head.data() + kPhentsizeAt);
  const uint64_t phnum = GetLe16(head.data() + kPhnumAt);
  if (phentsize < kProgramHeaderSize || phoff > head.size() || phnum > (head.size() - phoff) / phentsize) {
    return {};
  }
  return {head.data() + phoff, phnum, phentsize};
}

}  // namespace

std::vector<FileRange> ElfLoadRanges(std::span<const char> head, uint64_t file_size) {
  std::vector<FileRange> ranges;
  const ProgramHeaders table = FindProgramHeaders(head);
  bool first_load = true;
  for (uint64_t i = 0; i < table.count && ranges.size() < kMaxRanges; ++i) {
    const ProgramHeader ph = ProgramHeaderAt(table, i);
    if (ph.type != kPtLoad) continue;
    const bool wanted = first_load || (ph.flags & kPfWrite) != 0;
    first_load = false;
    if (!wanted || ph.offset >= file_size || ph.filesz == 0) continue;
    ranges.push_back({ph.offset, std::min(ph.filesz, file_size - ph.offset)});
  }
  return ranges;
}

bool ElfLayout::OffsetOf(uint64_t vaddr, uint64_t* offset, bool code_only) const {
  for (const Load& l : loads) {
    if ((l.executable || !code_only) && vaddr >= l.vaddr && vaddr - l.vaddr < l.filesz) {
      *offset = l.offset + (vaddr - l.vaddr);
      return true;
    }
  }
  return false;
}

ElfLayout ElfLayoutOf(std::span<const char> head, uint64_t file_size) {
  ElfLayout layout;
  const ProgramHeaders table = FindProgramHeaders(head);
  for (uint64_t i = 0; i < table.count; ++i) {
    const ProgramHeader ph = ProgramHeaderAt(table, i);
    if (ph.offset >= file_size || ph.filesz == 0) continue;
    const uint64_t length = std::min(ph.filesz, file_size - ph.offset);
    if (ph.type == kPtLoad && layout.loads.size() < kMaxLoads)
      layout.loads.push_back({ph.offset, ph.vaddr, length, (ph.flags & kPfExecute) != 0});
    if (ph.type == kPtDynamic && layout.dynamic.length == 0 && length <= kMaxDynamicBytes) {
      layout.dynamic = {ph.offset, length};
    }
  }
  return layout;
}

ElfDynamic ParseElfDynamic(std::span<const char> dynamic) {
  ElfDynamic d;
  bool has_rpath = false;
  uint64_t rpath = 0;
  for (size_t at = 0; at + 16 <= dynamic.size(); at += 16) {
    const uint64_t tag = GetLe64(dynamic.data() + at);
    const uint64_t value = GetLe64(dynamic.data() + at + 8);
    if (tag == kDtNull) break;
    if (tag == kDtNeeded && d.needed.size() < kMaxNeeded) d.needed.push_back(value);
    if (tag == kDtStrtab) d.strtab_vaddr = value;
    if (tag == kDtStrsz) d.strtab_size = value;
    if (tag == kDtRunpath) {
      d.has_runpath = true;
      d.runpath = value;
    }
    if (tag == kDtInit) d.init = value;
    if (tag == kDtInitArray) d.init_array_vaddr = value;
    if (tag == kDtInitArraySize) d.init_array_size = value;
    if (tag == kDtRpath) {
      has_rpath = true;
      rpath = value;
    }
  }
  // RPATH is only searched when there is no RUNPATH.
  if (!d.has_runpath && has_rpath) {
    d.has_runpath = true;
    d.runpath = rpath;
  }
  return d;
}

std::vector<uint64_t> ElfInitCode(const ElfLayout& layout, const ElfDynamic& dynamic,
                                  std::span<const char> init_array) {
  std::vector<uint64_t> code;
  auto add = [&](uint64_t vaddr) {
    uint64_t offset = 0;
    if (layout.OffsetOf(vaddr, &offset, /*code_only=*/true)) code.push_back(offset);
  };
  if (dynamic.init != 0) add(dynamic.init);
  const size_t entries = std::min(init_array.size() / 8, kMaxInitCode);
  for (size_t at = 0; at < entries * 8 && code.size() < kMaxInitCode; at += 8) {
    add(GetLe64(init_array.data() + at));
  }
  return code;
}

}  // namespace tide::format
