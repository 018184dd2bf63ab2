#include "test/support/rootfs_listing.h"

namespace tide::testing {

const char* const kBusyboxRootfsListing =
    "/bin/busybox find / -xdev | /bin/busybox sort | while read -r f; do "
    "/bin/busybox stat -c '%n|%F|%a|%u|%g|%s|%Y|%t,%T' \"$f\"; "
    "if [ -f \"$f\" ] && [ ! -L \"$f\" ]; then /bin/busybox sha256sum \"$f\"; fi; done";

std::string WithoutRuntimeMounts(const std::string& listing) {
  std::string out;
  size_t pos = 0;
  while (pos < listing.size()) {
    size_t end = listing.find('\n', pos);
    if (end == std::string::npos) end = listing.size();
    std::string line = listing.substr(pos, end - pos);
    pos = end + 1;
    std::string path = line.substr(0, line.find('|'));
    if (path == "/" || path == "/dev" || path == "/proc" || path == "/sys" || path == "/run") continue;
    out += line;
    out += '\n';
  }
  return out;
}

}  // namespace tide::testing
