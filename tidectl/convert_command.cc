#include "tidectl/convert_command.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "converter/image_converter.h"
#include "converter/image_endpoints.h"
#include "converter/image_ref.h"
#include "converter/interrupt.h"
#include "converter/progress.h"
#include "oci/platform.h"
#include "tidectl/conversion_flags.h"
#include "tidectl/size_flag.h"

namespace tide::tidectl {

namespace {

struct ConvertFlags : ConversionFlags {
  std::string source;
  std::string destination;
  int parallel = 0;
};

int Fail(const std::string& message) {
  absl::FPrintF(stderr, "tidectl convert: %s\n", message);
  return 1;
}

int RunConvert(const ConvertFlags& flags) {
  converter::InstallInterruptHandler();
  auto src_ref = converter::ImageRef::Parse(flags.source);
  if (!src_ref.ok()) return Fail(std::string(src_ref.status().message()));
  auto dst_ref = converter::ImageRef::Parse(flags.destination);
  if (!dst_ref.ok()) return Fail(std::string(dst_ref.status().message()));

  converter::ConvertOptions options;
  if (!flags.platform.empty()) {
    auto p = oci::Platform::Parse(flags.platform);
    if (!p.ok()) return Fail(std::string(p.status().message()));
    options.platform = *p;
  }
  if (flags.zstd_level < 1 || flags.zstd_level > 22) {
    return Fail(absl::StrFormat("--zstd-level %d: want 1..22", flags.zstd_level));
  }
  options.writer.zstd_level = flags.zstd_level;
  if (!flags.chunk_size.empty()) {
    auto size = ParseSize(flags.chunk_size);
    if (!size.ok()) return Fail(absl::StrFormat("--chunk-size: %s", size.status().message()));
    if (*size < 4096 || *size > format::kMaxChunkSize) {
      return Fail(
          absl::StrFormat("--chunk-size %s: want 4K..%dM", flags.chunk_size, format::kMaxChunkSize >> 20));
    }
    options.writer.chunk_size = static_cast<uint32_t>(*size);
  }
  options.parallel_layers = flags.parallel;

  converter::ImageEndpoints endpoints(flags.registry);
  auto source = endpoints.OpenSource(*src_ref);
  if (!source.ok()) return Fail(std::string(source.status().message()));
  auto dest = endpoints.OpenDestination(*dst_ref, (*source)->Tag());
  if (!dest.ok()) return Fail(std::string(dest.status().message()));

  converter::Progress::Options popts;
  popts.terminal = ::isatty(STDERR_FILENO) == 1;
  popts.quiet = flags.quiet;
  auto progress = std::make_unique<converter::Progress>(popts);
  options.progress = progress.get();
  auto start = std::chrono::steady_clock::now();
  auto summary = converter::ConvertImage(**source, **dest, options);
  progress.reset();  // final redraw before the summary
  if (!summary.ok()) {
    Fail(std::string(summary.status().message()));
    return converter::InterruptRequested() ? 130 : 1;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  absl::PrintF("converted %s -> %s\n", (*source)->Describe(), (*dest)->Describe());
  absl::PrintF(
      "  %d manifest(s), %d layer(s), %.1f MB tar, %.1f MB source -> %.1f MB tide in %.1f s (%.0f MB/s)\n",
      summary->manifests, summary->layers, static_cast<double>(summary->tar_bytes) / 1e6,
      static_cast<double>(summary->source_bytes) / 1e6, static_cast<double>(summary->output_bytes) / 1e6,
      secs, secs > 0 ? static_cast<double>(summary->tar_bytes) / 1e6 / secs : 0.0);
  absl::PrintF("  %s %s\n", summary->root.media_type, summary->root.digest.str());
  return 0;
}

}  // namespace

void AddConvertCommand(CLI::App& app) {
  auto flags = std::make_shared<ConvertFlags>();
  CLI::App* cmd = app.add_subcommand("convert", "Convert an image's layers to tide layers");
  cmd->add_option("SRC", flags->source, "Source image: oci:DIR[:TAG] or docker://HOST/REPO[:TAG|@DIGEST]")
      ->required();
  cmd->add_option("DST", flags->destination, "Destination: oci:DIR[:TAG] or docker://HOST/REPO[:TAG]")
      ->required();
  AddConversionFlags(cmd, flags.get());
  cmd->add_option("-j,--parallel", flags->parallel, "Layers converted at once (default: one per CPU)");
  cmd->callback([flags] {
    int rc = RunConvert(*flags);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace tide::tidectl
