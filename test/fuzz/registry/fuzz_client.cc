// libFuzzer target: the registry client's handling of whole responses. A loopback server answers
// every request with the input bytes verbatim (status line, headers, body: whatever they are), and
// the real client reads a blob range and a manifest by digest from it, through curl, its response
// handlers, auth challenges, redirects and retries (one attempt, short timeouts). What the client
// accepts must be what it asked for: exactly the range's length, a manifest matching its digest.

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "common/digest.h"
#include "registry/reference.h"
#include "registry/registry_client.h"
#include "test/fuzz/fuzz_check.h"

namespace {

// Serves the current response to every connection, forever (the fuzzing process's lifetime).
class VerbatimServer {
 public:
  VerbatimServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    FUZZ_CHECK(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    FUZZ_CHECK(::listen(fd_, 64) == 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    std::thread([this] { Serve(); }).detach();
  }
  int port() const { return port_; }
  void Set(std::string response) {
    std::lock_guard lock(mu_);
    response_ = std::move(response);
  }

 private:
  void Serve() {
    while (true) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
        pollfd p{c, POLLIN, 0};
        if (::poll(&p, 1, 1000) <= 0) break;
        ssize_t n = ::recv(c, buf, sizeof(buf), 0);
        if (n <= 0) break;
        head.append(buf, static_cast<size_t>(n));
      }
      std::string response;
      {
        std::lock_guard lock(mu_);
        response = response_;
      }
      (void)!::send(c, response.data(), response.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }
  int fd_ = -1;
  int port_ = 0;
  std::mutex mu_;
  std::string response_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static VerbatimServer server;
  static std::unique_ptr<tide::registry::RegistryClient> client = [] {
    tide::registry::RegistryClientOptions options;
    options.plain_http = true;
    // Anonymous: no docker config.json of the machine's is read.
    ::setenv("DOCKER_CONFIG", "/nonexistent-tide-fuzz", 1);
    options.connect_timeout = std::chrono::milliseconds(500);
    options.low_speed_time = std::chrono::milliseconds(1000);
    options.retry.max_attempts = 1;
    options.retry.budget = std::chrono::milliseconds(100);
    auto made = tide::registry::RegistryClient::Create(options);
    if (!made.ok()) std::fprintf(stderr, "%s\n", made.status().ToString().c_str());
    FUZZ_CHECK(made.ok());
    return std::move(*made);
  }();
  server.Set(std::string(reinterpret_cast<const char*>(data), size));
  auto repo = tide::registry::Reference::Parse("127.0.0.1:" + std::to_string(server.port()) + "/fuzz/app");
  FUZZ_CHECK(repo.ok());
  const tide::Digest digest = tide::Digest::Of("the manifest the client asks for");

  auto range = client->ReadBlobRange(*repo, digest, 5, 100);
  if (range.ok()) FUZZ_CHECK(range->size() == 100);
  auto manifest = client->FetchManifest(*repo, digest);
  if (manifest.ok())
    FUZZ_CHECK(tide::Digest::Of(manifest->bytes) == manifest->digest && manifest->digest == digest);
  return 0;
}
