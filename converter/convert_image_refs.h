#ifndef TIDE_CONVERTER_CONVERT_IMAGE_REFS_H_
#define TIDE_CONVERTER_CONVERT_IMAGE_REFS_H_

#include <string>

#include "absl/status/statusor.h"
#include "converter/image_converter.h"
#include "converter/image_endpoints.h"
#include "converter/image_ref.h"

namespace tide::converter {

// What one conversion between two image references did.
struct ImageRefConversion {
  std::string source;       // as the source describes itself
  std::string destination;  // as the destination describes itself
  ConvertSummary summary;
  double seconds = 0;  // the conversion proper, once both ends are open
};

// Opens `source` and `destination` (a layout destination without a tag takes the source's) and
// converts between them with `options`, showing progress on stderr (bars on a terminal, nothing
// when quiet). The progress display is gone when this returns.
absl::StatusOr<ImageRefConversion> ConvertImageRefs(const ImageRef& source, const ImageRef& destination,
                                                    const RegistryFlags& registry, ConvertOptions options,
                                                    bool quiet);

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_CONVERT_IMAGE_REFS_H_
