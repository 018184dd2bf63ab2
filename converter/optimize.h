#ifndef TIDE_CONVERTER_OPTIMIZE_H_
#define TIDE_CONVERTER_OPTIMIZE_H_

#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "converter/convert_image_refs.h"
#include "converter/image_converter.h"
#include "converter/image_endpoints.h"
#include "fuse/startup_readahead.h"
#include "profile/sandbox_recorder.h"
#include "profile/startup_profile.h"

// Optimizing an image: converting it with each layer's startup set first. The set comes from a
// startup profile, given or recorded here by running the image's workload.
namespace tide::converter {

// How the workload runs while its reads are recorded.
struct WorkloadOptions {
  std::string run;  // a shell command; empty runs the image's entrypoint
  std::string ready_line;
  int ready_port = 0;
  double timeout_seconds = 60;
  std::string work_dir;  // holds the scratch directory ("" = $TMPDIR or /tmp)
  FILE* echo = nullptr;  // where the workload's output lines go (nullptr = discarded)
  profile::SandboxNetwork network = profile::SandboxNetwork::kPrivate;
  bool user_namespace = true;  // when the kernel allows one
  profile::SandboxLimits limits;
  uint32_t readahead_kb = fuse::kStartupReadaheadKb;  // of the recording mounts (SandboxOptions)
};

// Records what `source` (an image reference as ImageRef::Parse reads it) reads at startup: converts
// it with `options` into an OCI layout in a scratch directory, then runs its workload there over
// tide's own FUSE mounts (profile::RecordStartup). `converted` hears of that conversion once done.
absl::StatusOr<profile::SandboxResult> RecordStartupProfile(
    std::string_view source, const RegistryFlags& registry, const ConvertOptions& options, bool quiet,
    const WorkloadOptions& workload, const std::function<void(const ImageRefConversion&)>& converted);

// ConvertOptions::startup_for_layer for `profile`: a layer's startup files, the layer found by its
// diff_id or else by its source blob digest. Layers the profile does not name keep their order.
StartupForLayer StartupFilesFromProfile(profile::StartupProfile profile);

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_OPTIMIZE_H_
