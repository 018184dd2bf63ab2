#ifndef TIDE_TEST_INTEGRATION_CONVERTER_ROUNDTRIP_CHECK_H_
#define TIDE_TEST_INTEGRATION_CONVERTER_ROUNDTRIP_CHECK_H_

#include <string>
#include <vector>

#include "test/support/subprocess.h"

namespace tide::testing {

std::string TidectlPath();
std::string TestImagesDir();
// Runs tidectl with args and returns exit code and output.
CommandResult Tidectl(const std::vector<std::string>& args,
                      std::chrono::seconds timeout = std::chrono::seconds(600));

// Checks (with Catch2 assertions) that the image tagged dst_tag in dst_layout is the tide conversion of
// src_tag in src_layout: same platforms and layer counts; for every layer, `zstd -dc` of the tide
// blob equals the source layer's decompressed tar byte for byte and hashes to the new diff_id; the
// layers carry tide annotations; config history and other fields are kept. Returns the number of
// layers checked.
int CheckRoundTrip(const std::string& src_layout, const std::string& src_tag, const std::string& dst_layout,
                   const std::string& dst_tag);

}  // namespace tide::testing

#endif  // TIDE_TEST_INTEGRATION_CONVERTER_ROUNDTRIP_CHECK_H_
