#ifndef TIDE_PROFILE_STARTUP_PROFILE_H_
#define TIDE_PROFILE_STARTUP_PROFILE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "format/layer_writer.h"

namespace tide::profile {

// One read a workload made at startup: which layer (index into StartupProfile::layers), which file
// of that layer (normalized tar path), which byte range.
struct ProfileRead {
  size_t layer = 0;
  std::string path;
  uint64_t offset = 0;
  uint64_t length = 0;
};

// What a workload read at startup, in global access order across layers. Layers are named by a
// digest that survives conversion without a startup set: the uncompressed diff_id, or the
// compressed blob digest (matching either is accepted). Text format: docs/profiles.md.
struct StartupProfile {
  std::vector<Digest> layers;
  std::vector<ProfileRead> reads;

  // The layer's index, or -1 when the profile does not name it.
  int FindLayer(const Digest& digest) const;
  // The layer's startup set for the layer writer: files in first-access order, each with its
  // read ranges merged and sorted, and ranked by the index in `reads` of its first read.
  std::vector<format::StartupFile> StartupFilesOf(size_t layer) const;
  // Appends a read, merging it with the previous one when it continues it (sequential reads).
  void AddRead(size_t layer, std::string path, uint64_t offset, uint64_t length);
  size_t AddLayer(const Digest& digest);
};

// Parses the text format; errors name `source` and the line number.
absl::StatusOr<StartupProfile> ParseProfile(std::string_view text, std::string_view source);
std::string SerializeProfile(const StartupProfile& profile);

absl::StatusOr<StartupProfile> ReadProfileFile(const std::string& path);
absl::Status WriteProfileFile(const StartupProfile& profile, const std::string& path);

}  // namespace tide::profile

#endif  // TIDE_PROFILE_STARTUP_PROFILE_H_
