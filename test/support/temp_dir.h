#ifndef TIDE_TEST_SUPPORT_TEMP_DIR_H_
#define TIDE_TEST_SUPPORT_TEMP_DIR_H_

#include <filesystem>
#include <string>

namespace tide::testing {

// A fresh directory under $TMPDIR (or /tmp), removed recursively on destruction. Anything mounted
// below it must be unmounted first by its own owner; Remove() lazily detaches leftovers so a failed
// test never leaves a busy mount behind.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "tide-test");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Writes bytes to a file, creating parent directories.
void WriteFile(const std::filesystem::path& path, const std::string& contents);
std::string ReadFile(const std::filesystem::path& path);

}  // namespace tide::testing

#endif  // TIDE_TEST_SUPPORT_TEMP_DIR_H_
