#include "tidectl/pull_command.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "containerd_client/containerd_client.h"
#include "oci/platform.h"
#include "pull/lazy_puller.h"
#include "registry/reference.h"
#include "registry/registry_client.h"
#include "tidectl/pull_progress.h"

namespace tide::tidectl {
namespace {

struct PullArgs {
  std::string address;
  std::string ns;
  std::string snapshotter = "tide";
  std::string platform;
  bool plain_http = false;
  std::string hosts_dir;
  std::string user;
  bool no_cri_labels = false;
  std::string side_index;
  std::string ref;
};

std::string EnvOr(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

absl::StatusOr<registry::Credential> ParseUser(const std::string& user) {
  registry::Credential credential;
  size_t colon = user.find(':');
  credential.username = user.substr(0, colon);
  if (colon != std::string::npos) credential.password = user.substr(colon + 1);
  if (credential.username.empty()) return absl::InvalidArgumentError("--user needs USER[:PASSWORD]");
  return credential;
}

absl::Status RunPull(const PullArgs& args) {
  TIDE_ASSIGN_OR_RETURN(registry::Reference ref, registry::Reference::Parse(args.ref));
  pull::PullOptions options;
  options.snapshotter = args.snapshotter;
  options.cri_labels = !args.no_cri_labels;
  if (!args.side_index.empty()) {
    TIDE_ASSIGN_OR_RETURN(options.side_index, Digest::Parse(args.side_index));
  }
  if (!args.platform.empty()) {
    TIDE_ASSIGN_OR_RETURN(options.platform, oci::Platform::Parse(args.platform));
  }
  registry::RegistryClientOptions registry_options;
  registry_options.plain_http = args.plain_http;
  registry_options.hosts_dir = args.hosts_dir;
  if (!args.user.empty()) {
    TIDE_ASSIGN_OR_RETURN(registry_options.credentials[ref.registry()], ParseUser(args.user));
  }
  TIDE_ASSIGN_OR_RETURN(auto registry, registry::RegistryClient::Create(registry_options));
  TIDE_ASSIGN_OR_RETURN(auto containerd, containerd_client::ContainerdClient::Connect(args.address, args.ns));

  PullProgressPrinter printer(stderr, isatty(STDERR_FILENO) != 0);
  pull::LazyPuller puller(*containerd, *registry, options);
  TIDE_ASSIGN_OR_RETURN(pull::PullResult result,
                        puller.Pull(ref, [&](const pull::LayerProgress& p) { printer(p); }));
  std::cout << PullSummary(result) << std::endl;
  return absl::OkStatus();
}

}  // namespace

void AddPullCommand(CLI::App& app) {
  auto args = std::make_shared<PullArgs>();
  args->address = EnvOr("CONTAINERD_ADDRESS", containerd_client::kDefaultContainerdAddress);
  args->ns = EnvOr("CONTAINERD_NAMESPACE", containerd_client::kDefaultNamespace);
  CLI::App* cmd = app.add_subcommand(
      "pull",
      "Put an image into containerd without downloading its tide layers (then `ctr run --snapshotter tide`)");
  cmd->add_option("--address,-a", args->address, "containerd socket ($CONTAINERD_ADDRESS)")
      ->capture_default_str();
  cmd->add_option("--namespace,-n", args->ns, "containerd namespace ($CONTAINERD_NAMESPACE)")
      ->capture_default_str();
  cmd->add_option("--snapshotter", args->snapshotter, "Snapshotter to unpack into")->capture_default_str();
  cmd->add_option("--platform", args->platform, "Platform to pull, os/arch[/variant] (default: this host)");
  cmd->add_flag("--plain-http", args->plain_http, "Use plain HTTP for registries without a hosts.toml");
  cmd->add_option("--hosts-dir", args->hosts_dir, "containerd certs.d directory with <host>/hosts.toml");
  cmd->add_option("--user,-u", args->user,
                  "Registry credentials USER[:PASSWORD] (default: docker config.json)");
  cmd->add_flag("--no-cri-labels", args->no_cri_labels,
                "Send only containerd.io/snapshot.ref and the layer annotations on Prepare, as nerdctl does");
  cmd->add_option("--index", args->side_index,
                  "Gzip side index artifact (manifest digest) to use for layers without their own index");
  cmd->add_option("REF", args->ref, "Image reference, host/repo:tag or host/repo@digest")->required();
  cmd->callback([args] {
    absl::Status status = RunPull(*args);
    if (!status.ok()) {
      std::cerr << "tidectl pull: " << args->ref << ": " << status.message() << std::endl;
      throw CLI::RuntimeError(1);
    }
  });
}

}  // namespace tide::tidectl
