#ifndef TIDE_TIDECTL_CONVERSION_FLAGS_H_
#define TIDE_TIDECTL_CONVERSION_FLAGS_H_

#include <CLI/CLI.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "converter/image_converter.h"
#include "converter/image_endpoints.h"

namespace tide::tidectl {

// The flags every command that writes tide layers takes (`convert`, `optimize`).
struct ConversionFlags {
  std::string platform;
  int zstd_level = 3;
  std::string chunk_size;
  std::string file_chunk_size;
  bool quiet = false;
  converter::RegistryFlags registry;
};

void AddConversionFlags(CLI::App* cmd, ConversionFlags* flags);

// The conversion the flags ask for (platform, zstd level, chunk size), each checked; an error
// names the flag.
absl::StatusOr<converter::ConvertOptions> ToConvertOptions(const ConversionFlags& flags);

}  // namespace tide::tidectl

#endif  // TIDE_TIDECTL_CONVERSION_FLAGS_H_
