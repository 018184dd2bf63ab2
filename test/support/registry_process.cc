#include "test/support/registry_process.h"

#include "absl/strings/str_cat.h"
#include "test/support/free_port.h"

namespace tide::testing {

absl::StatusOr<std::unique_ptr<RegistryProcess>> RegistryProcess::Start(const RegistryOptions& options) {
  std::unique_ptr<RegistryProcess> r(new RegistryProcess());
  r->port_ = FreeLoopbackPort();
  r->tls_ = !options.tls_cert_path.empty();
  std::string config = absl::StrCat(
      "version: 0.1\n"
      "log:\n  level: warn\n  accesslog:\n    disabled: false\n"
      "storage:\n  filesystem:\n    rootdirectory: ",
      (r->dir() / "data").string(),
      "\n"
      "  delete:\n    enabled: true\n"
      "  maintenance:\n    uploadpurging:\n      enabled: false\n"
      "http:\n  addr: 127.0.0.1:",
      r->port_, "\n");
  if (r->tls_) {
    absl::StrAppend(&config, "  tls:\n    certificate: ", options.tls_cert_path,
                    "\n    key: ", options.tls_key_path, "\n");
    if (!options.tls_client_ca_path.empty()) {
      absl::StrAppend(&config, "    clientcas:\n      - ", options.tls_client_ca_path, "\n");
    }
  }
  if (!options.htpasswd_path.empty()) {
    absl::StrAppend(&config, "auth:\n  htpasswd:\n    realm: tide-test\n    path: ", options.htpasswd_path,
                    "\n");
  } else if (!options.token_realm.empty()) {
    absl::StrAppend(&config, "auth:\n  token:\n    realm: ", options.token_realm,
                    "\n    service: ", options.token_service, "\n    issuer: ", options.token_issuer,
                    "\n    rootcertbundle: ", options.token_rootcert_path, "\n");
  }
  if (!options.proxy_remote_url.empty()) {
    absl::StrAppend(&config, "proxy:\n  remoteurl: ", options.proxy_remote_url, "\n");
  }
  std::filesystem::path config_path = r->dir() / "config.yml";
  WriteFile(config_path, config);
  r->log_path_ = r->dir() / "registry.log";
  absl::Status launched = r->Launch();
  if (!launched.ok()) return launched;
  return r;
}

absl::Status RegistryProcess::Launch() {
  // Appends to the same log: access-log readers see the whole life of the registry.
  auto proc = Subprocess::Start({"docker-registry", "serve", (dir() / "config.yml").string()},
                                SubprocessOptions{.env = {}, .log_path = log_path_.string(), .cwd = ""});
  if (!proc.ok()) return proc.status();
  process_.emplace(std::move(*proc));
  if (!WaitForPort(port_, std::chrono::seconds(20))) {
    return absl::UnavailableError(
        absl::StrCat("docker-registry did not listen on port ", port_, "; log:\n", ReadFile(log_path_)));
  }
  return absl::OkStatus();
}

absl::Status RegistryProcess::Restart() {
  if (process_) process_->Stop();
  process_.reset();
  return Launch();
}

void RegistryProcess::Stop() {
  if (process_) process_->Stop();
  process_.reset();
}

RegistryProcess::~RegistryProcess() {
  if (process_) process_->Stop();
}

std::string RegistryProcess::url() const { return absl::StrCat(tls_ ? "https://" : "http://", host()); }

}  // namespace tide::testing
