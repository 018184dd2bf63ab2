#ifndef TIDE_FORMAT_ELF_LOAD_RANGES_H_
#define TIDE_FORMAT_ELF_LOAD_RANGES_H_

#include <cstdint>
#include <span>
#include <vector>

namespace tide::format {

// A byte range of a file.
struct FileRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};

// The ranges of a 64-bit little-endian ELF object that a dynamic loader reads in full when it maps
// the object: the first loadable segment (ELF and program headers, symbol, string, hash and
// relocation tables) and each writable one (relocated page by page). Code is left out: it is
// touched sparsely, where it runs. `head` is the start of the file (the program headers must lie in
// it) and `file_size` the file's size; ranges are clipped to it. Anything else (not ELF, another
// class or byte order, headers out of bounds) gives no ranges: the input is an image author's.
std::vector<FileRange> ElfLoadRanges(std::span<const char> head, uint64_t file_size);

// What a loader needs to find an object's dependencies, from its head: where the dynamic section
// lies in the file, and how its loadable segments map addresses to file offsets.
struct ElfLayout {
  struct Load {
    uint64_t offset = 0;
    uint64_t vaddr = 0;
    uint64_t filesz = 0;
    bool executable = false;
  };
  FileRange dynamic;        // length 0: none (a static object)
  std::vector<Load> loads;  // at most 16
  // The file offset of address `vaddr`, if a loadable segment holds it (`code_only`: an executable one).
  bool OffsetOf(uint64_t vaddr, uint64_t* offset, bool code_only = false) const;
};
// Empty (no dynamic section) for anything ElfLoadRanges would reject. The dynamic section is at most
// 64 KiB and lies inside the file.
ElfLayout ElfLayoutOf(std::span<const char> head, uint64_t file_size);

// From a dynamic section: the string-table offsets of the DT_NEEDED names (at most 256), of the
// DT_RUNPATH (or else DT_RPATH) list, and the address and size of the string table they index.
struct ElfDynamic {
  std::vector<uint64_t> needed;
  bool has_runpath = false;
  uint64_t runpath = 0;
  uint64_t strtab_vaddr = 0;
  uint64_t strtab_size = 0;
  // The constructors the loader runs once the object and its dependencies are relocated: DT_INIT
  // (0: none) and the DT_INIT_ARRAY of function addresses (size in bytes; 0: none).
  uint64_t init = 0;
  uint64_t init_array_vaddr = 0;
  uint64_t init_array_size = 0;
};
ElfDynamic ParseElfDynamic(std::span<const char> dynamic);

// The file offsets of an object's constructors: DT_INIT and the entries of its DT_INIT_ARRAY
// (`init_array`, the array's bytes as the file holds them), in the order the loader calls them, each
// kept only if it lies in an executable loadable segment. A toolchain that leaves the array to
// relocation (entries 0 in the file) gives nothing rather than a wrong guess. At most 4096.
std::vector<uint64_t> ElfInitCode(const ElfLayout& layout, const ElfDynamic& dynamic,
                                  std::span<const char> init_array);

}  // namespace tide::format

#endif  // TIDE_FORMAT_ELF_LOAD_RANGES_H_
