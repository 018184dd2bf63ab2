#ifndef TIDE_TEST_SUPPORT_ROOTFS_LISTING_H_
#define TIDE_TEST_SUPPORT_ROOTFS_LISTING_H_

#include <string>

namespace tide::testing {

// A shell command for a container with busybox at /bin/busybox that lists its root filesystem:
// type, mode, owner, size, mtime, device numbers and content hash of every path on the root mount.
extern const char* const kBusyboxRootfsListing;

// Drops the lines of paths runc touches at container start (the root and the mount points), which
// say nothing about the image.
std::string WithoutRuntimeMounts(const std::string& listing);

}  // namespace tide::testing

#endif  // TIDE_TEST_SUPPORT_ROOTFS_LISTING_H_
