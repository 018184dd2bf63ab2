#include "test/support/nginx_process.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "test/support/free_port.h"

namespace tide::testing {

absl::StatusOr<std::unique_ptr<NginxProcess>> NginxProcess::Start(
    const std::filesystem::path& config_template, const std::string& upstream_url) {
  std::unique_ptr<NginxProcess> n(new NginxProcess());
  n->port_ = FreeLoopbackPort();
  std::string text = ReadFile(config_template);
  if (text.empty())
    return absl::NotFoundError(absl::StrCat("nginx config template ", config_template.string()));
  const std::filesystem::path run = n->dir_.path();
  text = absl::StrReplaceAll(text, {{"@RUN_DIR@", run.string()},
                                    {"@CACHE_DIR@", (run / "cache").string()},
                                    {"@CACHE_MAX@", "1g"},
                                    {"@LISTEN@", n->host()},
                                    {"@UPSTREAM@", upstream_url}});
  WriteFile(run / "nginx.conf", text);
  auto proc =
      Subprocess::Start({"nginx", "-p", run.string(), "-c", (run / "nginx.conf").string(), "-g",
                         "daemon off; master_process off;"},
                        SubprocessOptions{.env = {}, .log_path = (run / "stderr.log").string(), .cwd = ""});
  if (!proc.ok()) return proc.status();
  n->process_.emplace(std::move(*proc));
  if (!WaitForPort(n->port_, std::chrono::seconds(20))) {
    // nginx reports config errors on stderr before it opens its error log.
    return absl::UnavailableError(
        absl::StrCat("nginx did not listen on port ", n->port_, "; output:\n", ReadFile(run / "stderr.log")));
  }
  return n;
}

NginxProcess::~NginxProcess() {
  if (process_) process_->Stop();
}

std::string NginxProcess::AccessLog() const { return ReadFile(dir_.path() / "access.log"); }

int NginxProcess::CountBlobRequests(const std::string& cache_status) const {
  int n = 0;
  for (absl::string_view line : absl::StrSplit(AccessLog(), '\n')) {
    if (line.find("/blobs/sha256:") != absl::string_view::npos &&
        line.find(" cache=" + cache_status + " ") != absl::string_view::npos) {
      ++n;
    }
  }
  return n;
}

int NginxProcess::WaitForBlobRequests(const std::string& cache_status, int at_least,
                                      std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int n = CountBlobRequests(cache_status);
  while (n < at_least && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    n = CountBlobRequests(cache_status);
  }
  return n;
}

}  // namespace tide::testing
