#ifndef TIDE_CONVERTER_DECOMPRESSOR_H_
#define TIDE_CONVERTER_DECOMPRESSOR_H_

#include <memory>
#include <string>

#include "format/byte_io.h"
#include "oci/media_types.h"

namespace tide::converter {

// A streaming decompressor over `compressed` (gzip, possibly multi-member; zstd, possibly
// multi-frame with skippable frames; or none). Corrupt or truncated input is an error naming
// `context` (the layer) rather than a short or wrong stream.
std::unique_ptr<format::ByteSource> NewDecompressor(oci::Compression kind, format::ByteSource& compressed,
                                                    std::string context);

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_DECOMPRESSOR_H_
