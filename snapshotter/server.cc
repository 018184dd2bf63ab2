#include "snapshotter/server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/unique_fd.h"

namespace tide::snapshotter {
namespace {

constexpr int kMaxMessageBytes = 16 << 20;  // containerd's limit in both directions

// A socket file left by a crashed daemon refuses connections; a live one must not be replaced.
bool SomeoneListens(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) return false;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  return fd.valid() && connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<UnixSocketServer>> UnixSocketServer::Start(const std::string& path,
                                                                          grpc::Service* service) {
  return Start(path, std::vector<grpc::Service*>{service});
}

absl::StatusOr<std::unique_ptr<UnixSocketServer>> UnixSocketServer::Start(
    const std::string& path, const std::vector<grpc::Service*>& services) {
  std::error_code ec;
  std::filesystem::path socket(path);
  if (socket.has_parent_path()) {
    std::filesystem::create_directories(socket.parent_path(), ec);
    if (ec)
      return absl::InternalError(absl::StrCat("create ", socket.parent_path().string(), ": ", ec.message()));
  }
  if (SomeoneListens(path)) {
    return absl::FailedPreconditionError(absl::StrCat("another process is serving on ", path));
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::InternalError(absl::StrCat("remove stale socket ", path, ": ", std::strerror(errno)));
  }
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat("unix:", path), grpc::InsecureServerCredentials());
  for (grpc::Service* service : services) builder.RegisterService(service);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  // The socket must never be reachable by others, not even between bind and chmod.
  mode_t old_mask = umask(0177);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  umask(old_mask);
  if (server == nullptr) return absl::UnavailableError(absl::StrCat("cannot listen on unix socket ", path));
  if (chmod(path.c_str(), 0600) != 0) {
    server->Shutdown();
    return absl::InternalError(absl::StrCat("chmod ", path, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<UnixSocketServer>(new UnixSocketServer(path, std::move(server)));
}

UnixSocketServer::~UnixSocketServer() {
  Shutdown();
  unlink(path_.c_str());
}

void UnixSocketServer::Shutdown() {
  // A deadline so a stuck stream cannot hold the daemon up on SIGTERM.
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

void UnixSocketServer::Wait() { server_->Wait(); }

}  // namespace tide::snapshotter
