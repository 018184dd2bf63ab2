#include "registry/credentials.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"
#include "common/unique_fd.h"

extern char** environ;

namespace tide::registry {
namespace {

namespace fs = std::filesystem;

std::string DefaultConfigPath() {
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir != nullptr && *dir != '\0') {
    return (fs::path(dir) / "config.json").string();
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return (fs::path(home) / ".docker" / "config.json").string();
  }
  return "";
}

std::string HelperServerUrl(const std::string& key) {
  return key == "docker.io" ? "https://index.docker.io/v1/" : key;
}

struct ChildOutput {
  int exit_code = -1;
  std::string out;
};

// Runs argv with `input` on stdin and collects stdout, killing it after a timeout.
absl::StatusOr<ChildOutput> RunWithInput(const std::string& program, std::string_view input) {
  int in_pipe[2], out_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  UniqueFd in_r(in_pipe[0]), in_w(in_pipe[1]);
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  UniqueFd out_r(out_pipe[0]), out_w(out_pipe[1]);
  // The input goes into the pipe before the helper runs (it is far smaller than a pipe buffer), so
  // a helper that exits without reading cannot raise SIGPIPE here.
  if (write(in_w.get(), input.data(), input.size()) != static_cast<ssize_t>(input.size())) {
    return absl::InternalError("cannot write to credential helper pipe");
  }
  in_w.reset();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_r.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out_w.get(), 1);
  std::string arg1 = "get";
  char* argv[] = {const_cast<char*>(program.c_str()), arg1.data(), nullptr};
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return absl::NotFoundError(absl::StrCat("cannot run credential helper ", program));
  in_r.reset();
  out_w.reset();
  ChildOutput result;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  char buf[4096];
  while (true) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      return absl::DeadlineExceededError(absl::StrCat("credential helper ", program, " timed out"));
    }
    pollfd p{out_r.get(), POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = read(out_r.get(), buf, sizeof(buf));
    if (n <= 0) break;
    result.out.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace

std::string Credential::Describe() const {
  if (!identity_token.empty()) return "identity token";
  if (!username.empty()) return absl::StrCat("user ", username);
  return "anonymous";
}

std::string NormalizeAuthKey(std::string_view key) {
  if (size_t p = key.find("://"); p != std::string_view::npos) key = key.substr(p + 3);
  key = key.substr(0, key.find('/'));
  if (key == "index.docker.io" || key == "registry-1.docker.io" || key == "docker.io") return "docker.io";
  return std::string(key);
}

CredentialStore::CredentialStore(CredentialStore&& other) noexcept
    : explicit_(std::move(other.explicit_)),
      auths_(std::move(other.auths_)),
      cred_helpers_(std::move(other.cred_helpers_)),
      creds_store_(std::move(other.creds_store_)),
      helper_dir_(std::move(other.helper_dir_)),
      helper_cache_(std::move(other.helper_cache_)) {}

absl::StatusOr<CredentialStore> CredentialStore::Load(const CredentialOptions& options) {
  CredentialStore store;
  store.helper_dir_ = options.helper_dir;
  for (const auto& [host, cred] : options.explicit_credentials)
    store.explicit_[NormalizeAuthKey(host)] = cred;
  std::string path = options.docker_config_path.empty() ? DefaultConfigPath() : options.docker_config_path;
  if (path.empty()) return store;
  std::ifstream in(path);
  if (!in) {
    if (options.docker_config_path.empty()) return store;
    return absl::NotFoundError(absl::StrCat("docker config ", path, " cannot be read"));
  }
  nlohmann::json config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("docker config ", path, " is not a JSON object"));
  }
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("docker config ", path, ": ", Sv(why)));
  };
  if (auto it = config.find("auths"); it != config.end() && it->is_object()) {
    for (const auto& [key, entry] : it->items()) {
      if (!entry.is_object()) return bad(absl::StrCat("auths entry ", key, " is not an object"));
      Credential cred;
      cred.username = entry.value("username", "");
      cred.password = entry.value("password", "");
      cred.identity_token = entry.value("identitytoken", "");
      std::string auth = entry.value("auth", "");
      if (!auth.empty()) {
        std::string decoded;
        if (!absl::Base64Unescape(auth, &decoded))
          return bad(absl::StrCat("auth for ", key, " is not base64"));
        size_t colon = decoded.find(':');
        if (colon == std::string::npos) return bad(absl::StrCat("auth for ", key, " is not user:password"));
        cred.username = decoded.substr(0, colon);
        cred.password = decoded.substr(colon + 1);
      }
      if (!cred.empty()) store.auths_[NormalizeAuthKey(key)] = std::move(cred);
    }
  }
  if (auto it = config.find("credHelpers"); it != config.end() && it->is_object()) {
    for (const auto& [key, helper] : it->items()) {
      if (helper.is_string()) store.cred_helpers_[NormalizeAuthKey(key)] = helper.get<std::string>();
    }
  }
  if (auto it = config.find("credsStore"); it != config.end() && it->is_string()) {
    store.creds_store_ = it->get<std::string>();
  }
  return store;
}

absl::StatusOr<Credential> CredentialStore::RunHelper(const std::string& helper,
                                                      std::string_view server_url) const {
  std::string program = absl::StrCat("docker-credential-", helper);
  if (!helper_dir_.empty() && fs::exists(fs::path(helper_dir_) / program)) {
    program = (fs::path(helper_dir_) / program).string();
  }
  auto out = RunWithInput(program, server_url);
  if (!out.ok()) return out.status();
  if (out->exit_code != 0) {
    if (out->out.find("credentials not found") != std::string::npos) return Credential{};
    return absl::UnavailableError(absl::StrCat("credential helper ", program, " failed for ", Sv(server_url),
                                               " with exit code ", out->exit_code));
  }
  nlohmann::json reply = nlohmann::json::parse(out->out, nullptr, false);
  if (reply.is_discarded() || !reply.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("credential helper ", program, " returned no JSON object"));
  }
  Credential cred;
  std::string user = reply.value("Username", "");
  std::string secret = reply.value("Secret", "");
  if (user == "<token>") {
    cred.identity_token = secret;
  } else {
    cred.username = user;
    cred.password = secret;
  }
  return cred;
}

absl::StatusOr<Credential> CredentialStore::Lookup(std::string_view host) {
  std::string key = NormalizeAuthKey(host);
  if (auto it = explicit_.find(key); it != explicit_.end()) return it->second;
  if (auto it = auths_.find(key); it != auths_.end()) return it->second;
  std::string helper = creds_store_;
  if (auto it = cred_helpers_.find(key); it != cred_helpers_.end()) helper = it->second;
  if (helper.empty()) return Credential{};
  std::lock_guard lock(mu_);
  if (auto it = helper_cache_.find(key); it != helper_cache_.end()) return it->second;
  auto cred = RunHelper(helper, HelperServerUrl(key));
  if (!cred.ok()) return cred.status();
  helper_cache_[key] = *cred;
  return cred;
}

}  // namespace tide::registry
