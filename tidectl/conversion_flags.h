#ifndef TIDE_TIDECTL_CONVERSION_FLAGS_H_
#define TIDE_TIDECTL_CONVERSION_FLAGS_H_

#include <CLI/CLI.hpp>
#include <string>

#include "converter/image_endpoints.h"

namespace tide::tidectl {

// The flags every command that writes tide layers takes (`convert`, `optimize`).
struct ConversionFlags {
  std::string platform;
  int zstd_level = 3;
  std::string chunk_size;
  bool quiet = false;
  converter::RegistryFlags registry;
};

void AddConversionFlags(CLI::App* cmd, ConversionFlags* flags);

}  // namespace tide::tidectl

#endif  // TIDE_TIDECTL_CONVERSION_FLAGS_H_
