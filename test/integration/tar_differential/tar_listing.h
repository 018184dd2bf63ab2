#ifndef TIDE_TEST_INTEGRATION_TAR_DIFFERENTIAL_TAR_LISTING_H_
#define TIDE_TEST_INTEGRATION_TAR_DIFFERENTIAL_TAR_LISTING_H_

#include <string>

namespace tide::testing {

// Lists a tar archive with tide's TarReader in the format go_tar_list.go prints for Go's
// archive/tar: one line per entry (type, raw name, cleaned path, mode, owner, mtime, size, content
// sha256, link target or device, xattrs), then "END", or "ERROR <reason>" where tide rejects it.
std::string ListWithTide(const std::string& tar);

// Bytes of archive text as the listing shows them: printable ASCII except '%' and '\' as is, any
// other byte as %XX.
std::string EscapeListingText(const std::string& text);

}  // namespace tide::testing

#endif  // TIDE_TEST_INTEGRATION_TAR_DIFFERENTIAL_TAR_LISTING_H_
