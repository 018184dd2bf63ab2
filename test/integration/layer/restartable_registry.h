#ifndef TIDE_TEST_INTEGRATION_LAYER_RESTARTABLE_REGISTRY_H_
#define TIDE_TEST_INTEGRATION_LAYER_RESTARTABLE_REGISTRY_H_

#include <filesystem>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"

namespace tide::layer::testing {

// A docker-registry on a fixed 127.0.0.1 port and storage dir that can be stopped and started again,
// to take the registry away under a mounted layer and bring it back.
class RestartableRegistry {
 public:
  RestartableRegistry();
  absl::Status Start();
  void Stop();
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  // The stored bytes of a blob (to corrupt them behind the registry's back).
  std::filesystem::path BlobDataPath(std::string_view digest_hex) const;

 private:
  tide::testing::TempDir dir_{"tide-fuse-registry"};
  int port_;
  std::optional<tide::testing::Subprocess> process_;
};

}  // namespace tide::layer::testing

#endif  // TIDE_TEST_INTEGRATION_LAYER_RESTARTABLE_REGISTRY_H_
