#include "test/support/containerd_process.h"

#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "test/support/free_port.h"

namespace tide::testing {

absl::StatusOr<std::unique_ptr<ContainerdProcess>> ContainerdProcess::Start(
    const ContainerdOptions& options) {
  std::unique_ptr<ContainerdProcess> c(new ContainerdProcess());
  const auto& d = c->dir();
  c->address_ = (d / "containerd.sock").string();
  std::string config = absl::StrCat("version = 2\n", "root = \"", (d / "root").string(), "\"\n", "state = \"",
                                    (d / "state").string(), "\"\n", "[grpc]\n  address = \"", c->address_,
                                    "\"\n", "[ttrpc]\n  address = \"", (d / "containerd.sock.ttrpc").string(),
                                    "\"\n", "[debug]\n  level = \"info\"\n");
  if (!options.enable_cri) absl::StrAppend(&config, "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n");
  // A private instance must not touch the host's metrics or opt dirs either.
  absl::StrAppend(&config, "[plugins.\"io.containerd.internal.v1.opt\"]\n  path = \"", (d / "opt").string(),
                  "\"\n");
  for (const auto& [name, socket] : options.proxy_snapshotters) {
    absl::StrAppend(&config, "[proxy_plugins.", name, "]\n  type = \"snapshot\"\n  address = \"", socket,
                    "\"\n");
  }
  absl::StrAppend(&config, options.extra_config);
  // Top-level keys must precede tables in TOML; disabled_plugins is top-level, so move it up.
  std::string top, tables;
  bool in_table = false;
  for (absl::string_view line : absl::StrSplit(config, '\n')) {
    if (absl::StartsWith(line, "[")) in_table = true;
    bool top_level_key = absl::StartsWith(line, "disabled_plugins");
    absl::StrAppend(in_table && !top_level_key ? &tables : &top, line, "\n");
  }
  WriteFile(d / "config.toml", top + tables);
  c->log_path_ = d / "containerd.log";
  auto proc = Subprocess::Start({"containerd", "--config", (d / "config.toml").string()},
                                SubprocessOptions{.env = {}, .log_path = c->log_path_.string(), .cwd = ""});
  if (!proc.ok()) return proc.status();
  c->process_.emplace(std::move(*proc));
  if (!WaitForUnixSocket(c->address_, std::chrono::seconds(30))) {
    return absl::UnavailableError(absl::StrCat("containerd did not start; log:\n", ReadFile(c->log_path_)));
  }
  return c;
}

CommandResult ContainerdProcess::Ctr(const std::vector<std::string>& args,
                                     std::chrono::seconds timeout) const {
  std::vector<std::string> argv = {"ctr", "--address", address_};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, timeout);
}

void ContainerdProcess::CleanupTasks() {
  auto namespaces = Ctr({"namespaces", "ls", "-q"}, std::chrono::seconds(20));
  for (absl::string_view ns : absl::StrSplit(namespaces.output, '\n', absl::SkipEmpty())) {
    auto tasks = Ctr({"-n", std::string(ns), "tasks", "ls", "-q"}, std::chrono::seconds(20));
    for (absl::string_view id : absl::StrSplit(tasks.output, '\n', absl::SkipEmpty())) {
      Ctr({"-n", std::string(ns), "tasks", "kill", "-s", "SIGKILL", std::string(id)},
          std::chrono::seconds(20));
      Ctr({"-n", std::string(ns), "tasks", "delete", "-f", std::string(id)}, std::chrono::seconds(20));
    }
    auto containers = Ctr({"-n", std::string(ns), "containers", "ls", "-q"}, std::chrono::seconds(20));
    for (absl::string_view id : absl::StrSplit(containers.output, '\n', absl::SkipEmpty())) {
      Ctr({"-n", std::string(ns), "containers", "delete", std::string(id)}, std::chrono::seconds(20));
    }
  }
}

ContainerdProcess::~ContainerdProcess() {
  if (process_ && process_->Running()) CleanupTasks();
  if (process_) process_->Stop();
  // TempDir's destructor detaches any mount left below root/state.
}

}  // namespace tide::testing
