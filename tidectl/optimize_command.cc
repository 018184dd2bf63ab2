#include "tidectl/optimize_command.h"

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "converter/convert_image_refs.h"
#include "converter/image_ref.h"
#include "converter/optimize.h"
#include "fuse/startup_readahead.h"
#include "profile/startup_profile.h"
#include "tidectl/conversion_flags.h"
#include "tidectl/size_flag.h"

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
  std::string network = "private";
  bool no_user_namespace = false;
  std::string memory_limit = "8G";
  uint64_t cpu_limit = 600;
  uint64_t max_processes = 1024;
  uint64_t max_open_files = 16384;
  uint32_t record_readahead_kb = fuse::kStartupReadaheadKb;
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
  workload.readahead_kb = flags.record_readahead_kb;
  workload.work_dir = flags.work_dir;
  workload.echo = flags.quiet ? nullptr : stderr;
  workload.network =
      flags.network == "host" ? profile::SandboxNetwork::kHost : profile::SandboxNetwork::kPrivate;
  workload.user_namespace = !flags.no_user_namespace;
  absl::StatusOr<uint64_t> memory = ParseSize(flags.memory_limit);
  if (!memory.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--memory-limit: ", memory.status().message()));
  }
  workload.limits.address_space_bytes = *memory;
  workload.limits.cpu_seconds = flags.cpu_limit;
  workload.limits.processes = flags.max_processes;
  workload.limits.open_files = flags.max_open_files;
  TIDE_ASSIGN_OR_RETURN(profile::SandboxResult result,
                        converter::RecordStartupProfile(flags.source, flags.registry, base, flags.quiet,
                                                        workload, PrintConverted));
  if (!flags.quiet) {
    absl::FPrintF(stderr, "tidectl optimize: the workload ran %s\n",
                  result.user_namespace ? "as root of a user namespace"
                                        : "as host root with few capabilities (no user namespace)");
  }
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
  const converter::ConvertSummary& sum = converted.summary;
  // The second figure is the floor for the first: what a startup set exact to the byte would fetch.
  absl::PrintF(
      "startup set: %.1f MB compressed; the startup reads in it: %.1f MB (about %.1f MB compressed)\n",
      static_cast<double>(sum.startup_bytes) / 1e6, static_cast<double>(sum.startup_read_bytes) / 1e6,
      static_cast<double>(sum.startup_read_compressed_bytes) / 1e6);
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
  cmd->add_option("--ready-port", flags->ready_port,
                  "The workload is ready when 127.0.0.1:PORT accepts (in its network namespace)")
      ->check(CLI::Range(1, 65535));
  cmd->add_option("--network", flags->network,
                  "The workload's network: private (loopback only) or host (the host's)")
      ->check(CLI::IsMember({"private", "host"}))
      ->capture_default_str();
  cmd->add_flag("--no-user-namespace", flags->no_user_namespace,
                "Run the workload as host root with few capabilities even where a user namespace works");
  cmd->add_option("--memory-limit", flags->memory_limit, "Address space per workload process (0: none)")
      ->capture_default_str();
  cmd->add_option("--cpu-limit", flags->cpu_limit, "CPU seconds per workload process (0: none)")
      ->capture_default_str();
  cmd->add_option("--max-processes", flags->max_processes,
                  "Processes of the workload (0: none; with a user namespace only)")
      ->capture_default_str();
  cmd->add_option("--max-open-files", flags->max_open_files, "Open files per workload process (0: none)")
      ->capture_default_str();
  cmd->add_option("--timeout", flags->timeout, "Seconds to run the workload at most")->capture_default_str();
  cmd->add_option("--record-readahead", flags->record_readahead_kb,
                  "Kernel read-ahead (KiB) of the recording mounts; keep it equal to the snapshotter's "
                  "startup_readahead")
      ->check(CLI::Range(0, 65536))
      ->capture_default_str();
  cmd->add_option("--work-dir", flags->work_dir, "Scratch directory (default: $TMPDIR or /tmp)");
  AddConversionFlags(cmd, flags.get());
  cmd->callback([flags] {
    int rc = RunOptimize(*flags);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace tide::tidectl
