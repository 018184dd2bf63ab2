#ifndef TIDE_TEST_UNIT_FORMAT_SYNTHETIC_TAR_H_
#define TIDE_TEST_UNIT_FORMAT_SYNTHETIC_TAR_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tide::testing {

// Builds tar archives in memory, header by header, so tests control every byte (GNU long names, PAX
// records, base-256 numbers, broken checksums, ...).
struct TarHeaderSpec {
  std::string name;
  char type = '0';
  uint32_t mode = 0644;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;  // written into the header; content is appended separately
  int64_t mtime = 1700000000;
  std::string linkname;
  std::string uname = "root";
  std::string gname = "root";
  uint32_t dev_major = 0;
  uint32_t dev_minor = 0;
  bool base256_size = false;
};

class SyntheticTar {
 public:
  // A raw header block (checksum filled in).
  static std::string Header(const TarHeaderSpec& spec);
  // A PAX 'x' extended header with its records, ready to precede an entry.
  static std::string Pax(const std::vector<std::pair<std::string, std::string>>& records, char type = 'x');
  // A GNU 'L' or 'K' header carrying a long name.
  static std::string GnuLong(char type, const std::string& name);
  static std::string Pad(uint64_t size);  // zero padding to the next block

  SyntheticTar& Raw(const std::string& bytes);
  SyntheticTar& File(const std::string& name, const std::string& content, uint32_t mode = 0644);
  SyntheticTar& Dir(const std::string& name, uint32_t mode = 0755);
  SyntheticTar& Symlink(const std::string& name, const std::string& target);
  SyntheticTar& Hardlink(const std::string& name, const std::string& target);
  SyntheticTar& Entry(const TarHeaderSpec& spec, const std::string& content = "");
  // Appends the end-of-archive marker (two zero blocks).
  std::string Finish() const;
  const std::string& bytes() const { return data_; }

 private:
  std::string data_;
};

}  // namespace tide::testing

#endif  // TIDE_TEST_UNIT_FORMAT_SYNTHETIC_TAR_H_
