#include "tidectl/optimize_command.h"

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "converter/convert_image_refs.h"
#include "converter/image_ref.h"
#include "converter/optimize.h"
#include "profile/startup_profile.h"
#include "tidectl/conversion_flags.h"

namespace tide::tidectl {

namespace {

struct OptimizeFlags : ConversionFlags {
  std::string source;
  std::string destination;
  std::string profile_in;
  std::string profile_out;
  std::string run;
  std::string ready_line;
  int ready_port = 0;
  double timeout = 60;
  std::string work_dir;
};

int Fail(const std::string& message) {
  absl::FPrintF(stderr, "tidectl optimize: %s\n", message);
  return 1;
}

void PrintConverted(const converter::ImageRefConversion& converted) {
  absl::PrintF("converted %s -> %s (%d layer(s), %.1f MB tide)\n", converted.source, converted.destination,
               converted.summary.layers, static_cast<double>(converted.summary.output_bytes) / 1e6);
}

absl::StatusOr<profile::StartupProfile> RecordProfile(const OptimizeFlags& flags,
                                                      const converter::ConvertOptions& base) {
  converter::WorkloadOptions workload;
  workload.run = flags.run;
  workload.ready_line = flags.ready_line;
  workload.ready_port = flags.ready_port;
  workload.timeout_seconds = flags.timeout;
  workload.work_dir = flags.work_dir;
  workload.echo = flags.quiet ? nullptr : stderr;
  TIDE_ASSIGN_OR_RETURN(profile::SandboxResult result,
                        converter::RecordStartupProfile(flags.source, flags.registry, base, flags.quiet,
                                                        workload, PrintConverted));
  if (!result.ready && (!flags.ready_line.empty() || flags.ready_port != 0)) {
    absl::FPrintF(stderr, "tidectl optimize: warning: workload %s before it was ready; using what it read\n",
                  result.exit_code >= 0 ? absl::StrFormat("exited with %d", result.exit_code) : "timed out");
  }
  return std::move(result.profile);
}

absl::Status Convert(const OptimizeFlags& flags, const converter::ConvertOptions& options) {
  TIDE_ASSIGN_OR_RETURN(converter::ImageRef src_ref, converter::ImageRef::Parse(flags.source));
  TIDE_ASSIGN_OR_RETURN(converter::ImageRef dst_ref, converter::ImageRef::Parse(flags.destination));
  TIDE_ASSIGN_OR_RETURN(converter::ImageRefConversion converted,
                        converter::ConvertImageRefs(src_ref, dst_ref, flags.registry, options, flags.quiet));
  PrintConverted(converted);
  return absl::OkStatus();
}

int RunOptimize(const OptimizeFlags& flags) {
  auto base = ToConvertOptions(flags);
  if (!base.ok()) return Fail(std::string(base.status().message()));
  if (!flags.profile_in.empty() && !flags.run.empty()) return Fail("--profile and --run exclude each other");
  absl::StatusOr<profile::StartupProfile> prof =
      flags.profile_in.empty() ? RecordProfile(flags, *base) : profile::ReadProfileFile(flags.profile_in);
  if (!prof.ok()) return Fail(std::string(prof.status().message()));
  if (!flags.profile_out.empty()) {
    absl::Status s = profile::WriteProfileFile(*prof, flags.profile_out);
    if (!s.ok()) return Fail(std::string(s.message()));
  }
  absl::PrintF("startup profile: %d read(s) over %d layer(s)\n", prof->reads.size(), prof->layers.size());
  converter::ConvertOptions options = *base;
  options.startup_for_layer = converter::StartupFilesFromProfile(*std::move(prof));
  absl::Status s = Convert(flags, options);
  if (!s.ok()) return Fail(std::string(s.message()));
  return 0;
}

}  // namespace

void AddOptimizeCommand(CLI::App& app) {
  auto flags = std::make_shared<OptimizeFlags>();
  CLI::App* cmd =
      app.add_subcommand("optimize", "Convert an image with each layer's startup set placed first");
  cmd->add_option("SRC", flags->source, "Source image: oci:DIR[:TAG] or docker://HOST/REPO[:TAG|@DIGEST]")
      ->required();
  cmd->add_option("DST", flags->destination, "Destination: oci:DIR[:TAG] or docker://HOST/REPO[:TAG]")
      ->required();
  cmd->add_option("--profile", flags->profile_in, "Startup profile to apply (docs/profiles.md)");
  cmd->add_option("--profile-out", flags->profile_out, "Also write the profile used here to this file");
  cmd->add_option("--run", flags->run,
                  "Record the profile by running this shell command in the image (default: its entrypoint)");
  cmd->add_option("--ready-line", flags->ready_line,
                  "The workload is ready when a stdout line contains this");
  cmd->add_option("--ready-port", flags->ready_port, "The workload is ready when 127.0.0.1:PORT accepts")
      ->check(CLI::Range(1, 65535));
  cmd->add_option("--timeout", flags->timeout, "Seconds to run the workload at most")->capture_default_str();
  cmd->add_option("--work-dir", flags->work_dir, "Scratch directory (default: $TMPDIR or /tmp)");
  AddConversionFlags(cmd, flags.get());
  cmd->callback([flags] {
    int rc = RunOptimize(*flags);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace tide::tidectl
