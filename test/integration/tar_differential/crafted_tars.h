#ifndef TIDE_TEST_INTEGRATION_TAR_DIFFERENTIAL_CRAFTED_TARS_H_
#define TIDE_TEST_INTEGRATION_TAR_DIFFERENTIAL_CRAFTED_TARS_H_

#include <string>
#include <vector>

namespace tide::testing {

// A tar archive built byte by byte to probe one way readers can disagree.
struct CraftedTar {
  std::string name;
  std::string bytes;
  // True: tide must list it exactly as Go's archive/tar does. False: tide must reject it (Go may
  // accept it, but tide cannot read it the same way, or Go fails on it too).
  bool tide_accepts = true;
};

// The corpus of the differential test: the PAX global header size attack first, then PAX local and
// global headers, GNU long names, sparse files, numeric field encodings, checksums, end-of-archive
// handling, truncation, negative and overflowing sizes, duplicates and header layouts.
std::vector<CraftedTar> CraftedTars();

}  // namespace tide::testing

#endif  // TIDE_TEST_INTEGRATION_TAR_DIFFERENTIAL_CRAFTED_TARS_H_
