#include "tidectl/convert_command.h"

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "converter/convert_image_refs.h"
#include "converter/image_ref.h"
#include "converter/interrupt.h"
#include "tidectl/conversion_flags.h"

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
  auto options = ToConvertOptions(flags);
  if (!options.ok()) return Fail(std::string(options.status().message()));
  options->parallel_layers = flags.parallel;

  auto converted = converter::ConvertImageRefs(*src_ref, *dst_ref, flags.registry, *options, flags.quiet);
  if (!converted.ok()) {
    Fail(std::string(converted.status().message()));
    return converter::InterruptRequested() ? 130 : 1;
  }
  const converter::ConvertSummary& summary = converted->summary;
  double secs = converted->seconds;
  absl::PrintF("converted %s -> %s\n", converted->source, converted->destination);
  absl::PrintF(
      "  %d manifest(s), %d layer(s), %.1f MB tar, %.1f MB source -> %.1f MB tide in %.1f s (%.0f MB/s)\n",
      summary.manifests, summary.layers, static_cast<double>(summary.tar_bytes) / 1e6,
      static_cast<double>(summary.source_bytes) / 1e6, static_cast<double>(summary.output_bytes) / 1e6, secs,
      secs > 0 ? static_cast<double>(summary.tar_bytes) / 1e6 / secs : 0.0);
  absl::PrintF("  %s %s\n", summary.root.media_type, summary.root.digest.str());
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
