#ifndef TIDE_TEST_INTEGRATION_LAYER_TREE_COMPARE_H_
#define TIDE_TEST_INTEGRATION_LAYER_TREE_COMPARE_H_

#include <filesystem>
#include <string>
#include <vector>

namespace tide::layer::testing {

struct CompareOptions {
  bool directory_nlink = false;  // overlayfs and FUSE count directory links differently from ext4
  bool xattrs = true;
  bool inode_links = true;  // names sharing an inode in `expected` share one in `actual`, and only they
};

// Compares two trees entry by entry (type, mode, owner, size, mtime with nanoseconds, nlink, rdev,
// link target, xattrs, content byte for byte). Returns one line per difference; empty means equal.
std::vector<std::string> CompareTrees(const std::filesystem::path& expected,
                                      const std::filesystem::path& actual,
                                      const CompareOptions& options = {});

// Number of entries below `root` (not counting root).
size_t CountEntries(const std::filesystem::path& root);

}  // namespace tide::layer::testing

#endif  // TIDE_TEST_INTEGRATION_LAYER_TREE_COMPARE_H_
