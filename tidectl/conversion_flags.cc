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
  cmd->add_option("--chunk-size", flags->chunk_size,
                  "Chunk size, e.g. 1M; the most a chunk holds (default: the format's default)");
  cmd->add_option("--file-chunk-size", flags->file_chunk_size,
                  "Chunk size within a file that has chunks of its own, at most --chunk-size "
                  "(default: the format's default)");
  cmd->add_flag("-q,--quiet", flags->quiet, "No progress output");
  cmd->add_flag("--plain-http", flags->registry.plain_http,
                "Use http for registries without hosts.toml entries");
  cmd->add_option("--hosts-dir", flags->registry.hosts_dir,
                  "containerd hosts.toml directory (certs.d layout)");
}

namespace {

absl::StatusOr<uint32_t> ParseChunkSize(std::string_view flag, const std::string& text) {
  auto size = ParseSize(text);
  if (!size.ok()) return absl::InvalidArgumentError(absl::StrFormat("%s: %s", flag, size.status().message()));
  if (*size < 4096 || *size > format::kMaxChunkSize) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s %s: want 4K..%dM", flag, text, format::kMaxChunkSize >> 20));
  }
  return static_cast<uint32_t>(*size);
}

}  // namespace

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
    auto size = ParseChunkSize("--chunk-size", flags.chunk_size);
    if (!size.ok()) return size.status();
    options.writer.chunk_size = *size;
  }
  if (!flags.file_chunk_size.empty()) {
    auto size = ParseChunkSize("--file-chunk-size", flags.file_chunk_size);
    if (!size.ok()) return size.status();
    options.writer.file_chunk_size = *size;
  }
  return options;
}

}  // namespace tide::tidectl
