#include "test/integration/layer/restartable_registry.h"

#include "absl/strings/str_cat.h"
#include "test/support/free_port.h"

namespace tide::layer::testing {

using tide::testing::Subprocess;
using tide::testing::SubprocessOptions;

RestartableRegistry::RestartableRegistry() : port_(tide::testing::FreeLoopbackPort()) {
  tide::testing::WriteFile(dir_ / "config.yml",
                           absl::StrCat("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
                                        "    rootdirectory: ",
                                        (dir_ / "data").string(),
                                        "\n  maintenance:\n    uploadpurging:\n      enabled: false\n"
                                        "http:\n  addr: 127.0.0.1:",
                                        port_, "\n"));
}

absl::Status RestartableRegistry::Start() {
  auto proc = Subprocess::Start(
      {"docker-registry", "serve", (dir_ / "config.yml").string()},
      SubprocessOptions{.env = {}, .log_path = (dir_ / "registry.log").string(), .cwd = ""});
  if (!proc.ok()) return proc.status();
  process_.emplace(std::move(*proc));
  if (!tide::testing::WaitForPort(port_, std::chrono::seconds(20))) {
    return absl::UnavailableError(absl::StrCat("docker-registry did not listen on ", port_, ": ",
                                               tide::testing::ReadFile(dir_ / "registry.log")));
  }
  return absl::OkStatus();
}

void RestartableRegistry::Stop() {
  if (process_) process_->Stop();
  process_.reset();
}

std::filesystem::path RestartableRegistry::BlobDataPath(std::string_view hex) const {
  return dir_ / "data/docker/registry/v2/blobs/sha256" / std::string(hex.substr(0, 2)) / std::string(hex) /
         "data";
}

}  // namespace tide::layer::testing
