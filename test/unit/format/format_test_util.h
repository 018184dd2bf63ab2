#ifndef TIDE_TEST_UNIT_FORMAT_FORMAT_TEST_UTIL_H_
#define TIDE_TEST_UNIT_FORMAT_FORMAT_TEST_UTIL_H_

#include <map>
#include <string>

#include "format/layer_index.h"
#include "format/layer_writer.h"
#include "tide/format/v1/layer_index.pb.h"

namespace tide::testing {

struct Converted {
  std::string blob;
  format::LayerWriteResult result;
};

// Runs the writer on an in-memory tar; fails the test on error.
Converted ConvertTar(const std::string& tar, const format::LayerWriterOptions& options = {});
// Decompresses with the zstd command-line tool, as a tide-unaware runtime would.
std::string ZstdCliDecompress(const std::string& blob);
// Loads the index through the footer and checks it against the annotations.
format::LayerIndex LoadIndex(const Converted& c);

// Serializes, compresses and frames an index protobuf as a writer would (tests edit the protobuf).
std::string FrameIndex(const tide::format::v1::LayerIndex& pb);
// Regular files by normalized path -> content, read from a tar with GNU-tar-independent code
// (the tar reader), keeping the last entry per path.
std::map<std::string, std::string> FileContents(const std::string& tar);
// Checks that every regular file is served correctly from the chunks: whole file, and ranges
// crossing every chunk boundary.
void CheckAllFileReads(const Converted& c, const format::LayerIndex& index,
                       const std::map<std::string, std::string>& expected);

}  // namespace tide::testing

#endif  // TIDE_TEST_UNIT_FORMAT_FORMAT_TEST_UTIL_H_
