#include "tidectl/conversion_flags.h"

#include "absl/strings/str_format.h"
#include "format/layer_writer.h"
#include "oci/platform.h"
#include "tidectl/size_flag.h"

namespace tide::tidectl {

void AddConversionFlags(CLI::App* cmd, ConversionFlags* flags) {
  cmd->add_option("--platform", flags->platform,
                  "Convert only this platform of an index (os/arch[/variant])");
  cmd->add_option("--zstd-level", flags->zstd_level, "zstd compression level (1-22)")->capture_default_str();
  cmd->add_option("--chunk-size", flags->chunk_size, "Chunk size, e.g. 1M (default: the format's default)");
  cmd->add_flag("-q,--quiet", flags->quiet, "No progress output");
  cmd->add_flag("--plain-http", flags->registry.plain_http,
                "Use http for registries without hosts.toml entries");
  cmd->add_option("--hosts-dir", flags->registry.hosts_dir,
                  "containerd hosts.toml directory (certs.d layout)");
}

absl::StatusOr<converter::ConvertOptions> ToConvertOptions(const ConversionFlags& flags) {
  converter::ConvertOptions options;
  if (!flags.platform.empty()) {
    auto p = oci::Platform::Parse(flags.platform);
    if (!p.ok()) return p.status();
    options.platform = *p;
  }
  if (flags.zstd_level < 1 || flags.zstd_level > 22) {
    return absl::InvalidArgumentError(absl::StrFormat("--zstd-level %d: want 1..22", flags.zstd_level));
  }
  options.writer.zstd_level = flags.zstd_level;
  if (!flags.chunk_size.empty()) {
    auto size = ParseSize(flags.chunk_size);
    if (!size.ok())
      return absl::InvalidArgumentError(absl::StrFormat("--chunk-size: %s", size.status().message()));
    if (*size < 4096 || *size > format::kMaxChunkSize) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--chunk-size %s: want 4K..%dM", flags.chunk_size, format::kMaxChunkSize >> 20));
    }
    options.writer.chunk_size = static_cast<uint32_t>(*size);
  }
  return options;
}

}  // namespace tide::tidectl
