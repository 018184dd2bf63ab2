#ifndef TIDE_TEST_SUPPORT_CONTAINERD_PROCESS_H_
#define TIDE_TEST_SUPPORT_CONTAINERD_PROCESS_H_

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"

namespace tide::testing {

struct ContainerdOptions {
  // proxy_plugins entries of type "snapshot": name -> unix socket path.
  std::map<std::string, std::string> proxy_snapshotters;
  bool enable_cri = false;   // CRI stays disabled unless a test needs it
  std::string extra_config;  // appended verbatim to config.toml (version 2)
  std::string hosts_dir;     // hosts.toml tree for the CRI registry config_path
};

// A private real containerd: own root, state, socket and config under a temp dir. Stopping it also
// kills the shims it started (they are in its process group only if they did not detach, so the
// destructor asks ctr to kill and delete leftover tasks first) and unmounts anything left under
// its root.
class ContainerdProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ContainerdProcess>> Start(const ContainerdOptions& options = {});
  ~ContainerdProcess();

  const std::string& address() const { return address_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path root() const { return dir_.path() / "root"; }
  const std::filesystem::path& log_path() const { return log_path_; }

  // Runs `ctr --address <socket> args...` and returns its result.
  CommandResult Ctr(const std::vector<std::string>& args,
                    std::chrono::seconds timeout = std::chrono::seconds(300)) const;

 private:
  ContainerdProcess() = default;
  void CleanupTasks();
  TempDir dir_{"tide-containerd"};
  std::string address_;
  std::filesystem::path log_path_;
  std::optional<Subprocess> process_;
};

}  // namespace tide::testing

#endif  // TIDE_TEST_SUPPORT_CONTAINERD_PROCESS_H_
