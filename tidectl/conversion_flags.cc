#include "tidectl/conversion_flags.h"

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

}  // namespace tide::tidectl
