#include "profile/sandbox_recorder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/unique_fd.h"
#include "fetch/blob_source.h"
#include "layer/layer_mount_manager.h"
#include "oci/oci_layout.h"
#include "profile/image_runtime.h"
#include "profile/image_user.h"
#include "profile/layer_records.h"
#include "profile/sandbox_process.h"

namespace tide::profile {

namespace {

namespace fs = std::filesystem;

// An overlayfs mount, detached on destruction.
class OverlayMount {
 public:
  static absl::StatusOr<OverlayMount> Create(const std::vector<fs::path>& lower_top_first,
                                             const fs::path& upper, const fs::path& work,
                                             const fs::path& target) {
    std::vector<std::string> lowers;
    for (const fs::path& p : lower_top_first) lowers.push_back(p.string());
    std::string data = absl::StrCat("lowerdir=", absl::StrJoin(lowers, ":"), ",upperdir=", upper.string(),
                                    ",workdir=", work.string());
    if (::mount("overlay", target.c_str(), "overlay", 0, data.c_str()) != 0) {
      return absl::InternalError(
          absl::StrCat("overlay mount on ", target.string(), ": ", std::strerror(errno)));
    }
    return OverlayMount(target);
  }
  OverlayMount(OverlayMount&& o) noexcept : target_(std::exchange(o.target_, {})) {}
  OverlayMount& operator=(OverlayMount&&) = delete;
  ~OverlayMount() {
    if (!target_.empty()) ::umount2(target_.c_str(), MNT_DETACH);
  }

 private:
  explicit OverlayMount(fs::path target) : target_(std::move(target)) {}
  fs::path target_;
};

// Whether 127.0.0.1:port accepts a TCP connection in the network namespace `netns_fd` (-1: this
// process's). A socket stays in the namespace it was made in, so a thread that joined the
// namespace makes it and the connect happens here.
bool PortAccepts(int netns_fd, int port) {
  int fd = -1;
  if (netns_fd < 0) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  } else {
    std::thread maker([&fd, netns_fd] {
      if (::setns(netns_fd, CLONE_NEWNET) == 0) fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    });
    maker.join();
  }
  UniqueFd s(fd);
  if (s.get() < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
}

// Feeds the workload's output to `echo` line by line; true once a line contains `ready_line`.
class OutputWatcher {
 public:
  OutputWatcher(std::string ready_line, FILE* echo) : ready_line_(std::move(ready_line)), echo_(echo) {}
  // Returns false at EOF.
  bool Drain(int fd, bool& ready) {
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) return n < 0 && errno == EINTR;
    pending_.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = pending_.find('\n')) != std::string::npos) {
      Line(pending_.substr(0, nl), ready);
      pending_.erase(0, nl + 1);
    }
    // A workload that never ends a line must not grow tidectl's memory.
    if (pending_.size() > kMaxLineBytes) {
      Line(pending_, ready);
      pending_.clear();
    }
    return true;
  }

 private:
  static constexpr size_t kMaxLineBytes = 64 << 10;

  void Line(const std::string& line, bool& ready) {
    if (echo_ != nullptr) std::fprintf(echo_, "  | %s\n", Printable(line).c_str());
    if (!ready_line_.empty() && line.find(ready_line_) != std::string::npos) ready = true;
  }

  // The image's output goes to the operator's terminal: control characters (escape sequences that
  // retitle, clear or rewrite it) are shown as \xNN.
  static std::string Printable(const std::string& line) {
    std::string out;
    for (char c : line) {
      auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) {
        absl::StrAppendFormat(&out, "\\x%02x", u);
      } else {
        out.push_back(c);
      }
    }
    return out;
  }

  std::string ready_line_;
  FILE* echo_;
  std::string pending_;
};

// Waits until a ready condition, the workload's exit, or the timeout.
void WaitForReady(SandboxProcess& proc, const SandboxOptions& options, SandboxResult& result) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(options.timeout_seconds);
  OutputWatcher watcher(options.ready_line, options.echo);
  bool open = true;
  while (std::chrono::steady_clock::now() < deadline) {
    if (open) {
      pollfd p{proc.output_fd(), POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) open = watcher.Drain(proc.output_fd(), result.ready);
    } else {
      ::usleep(50 * 1000);
    }
    if (!result.ready && options.ready_port != 0)
      result.ready = PortAccepts(proc.netns_fd(), options.ready_port);
    if (result.ready) return;
    if (!open) {
      result.exit_code = proc.Poll();
      if (result.exit_code >= 0) return;
    }
  }
}

// The image's User, resolved inside its root, for the workload; HOME from it when Env has none.
// Resolving reads the image's /etc/passwd and /etc/group as runc does before it starts a
// container, so they enter the profile as a real start needs them.
absl::Status SetUser(const std::string& user, SandboxSpec& spec) {
  UniqueFd root_fd(::open(spec.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.valid()) {
    return absl::InternalError(absl::StrCat("open ", spec.root.string(), ": ", std::strerror(errno)));
  }
  TIDE_ASSIGN_OR_RETURN(ImageUser resolved, ResolveImageUser(root_fd.get(), user));
  if (spec.user_namespace) {
    bool mapped = resolved.uid < kSandboxIdCount && resolved.gid < kSandboxIdCount;
    for (gid_t g : resolved.groups) mapped = mapped && g < kSandboxIdCount;
    if (!mapped) {
      return absl::InvalidArgumentError(absl::StrCat("image user \"", user, "\": its ids are outside the ",
                                                     kSandboxIdCount, " the sandbox's user namespace maps"));
    }
  }
  spec.uid = resolved.uid;
  spec.gid = resolved.gid;
  spec.groups = std::move(resolved.groups);
  bool has_home = false;
  for (const std::string& kv : spec.env) has_home = has_home || kv.rfind("HOME=", 0) == 0;
  if (!has_home) spec.env.push_back("HOME=" + resolved.home);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SandboxResult> RecordStartup(const SandboxOptions& options) {
  if (options.ready_port < 0 || options.ready_port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("ready port ", options.ready_port, " is not a TCP port"));
  }
  // On the host's network, something else already listening would end the run at once with an
  // empty profile. A private network namespace starts empty.
  if (options.ready_port != 0 && options.network == SandboxNetwork::kHost &&
      PortAccepts(-1, options.ready_port)) {
    return absl::FailedPreconditionError(absl::StrCat("ready port ", options.ready_port,
                                                      " already accepts connections on 127.0.0.1 before "
                                                      "the workload starts; choose a free port"));
  }
  TIDE_ASSIGN_OR_RETURN(ImageRuntime rt, LoadImageRuntime(options.layout_dir, options.tag));
  if (rt.layers.size() != rt.diff_ids.size()) {
    return absl::InvalidArgumentError("image config's diff_ids do not match the manifest's layers");
  }
  SandboxSpec spec;
  spec.root = options.work_dir / "root";
  spec.argv = options.command.empty() ? rt.argv : options.command;
  spec.env = rt.env;
  spec.working_dir = rt.working_dir;
  spec.network = options.network;
  spec.user_namespace = options.user_namespace && UserNamespacesAvailable();
  spec.limits = options.limits;
  std::error_code ec;
  for (const char* d : {"root", "upper", "work", "cache", "layers"})
    fs::create_directories(options.work_dir / d, ec);
  // The overlay's root directory is the upper dir: owned by the namespace's root, like the image's.
  if (spec.user_namespace &&
      ::chown((options.work_dir / "upper").c_str(), kSandboxIdBase, kSandboxIdBase) != 0) {
    return absl::InternalError(
        absl::StrCat("chown ", (options.work_dir / "upper").string(), ": ", std::strerror(errno)));
  }
  TIDE_ASSIGN_OR_RETURN(oci::OciLayout layout, oci::OciLayout::Open(options.layout_dir));

  layer::LayerMountManagerOptions mopts;
  mopts.cache_dir = options.work_dir / "cache";
  TIDE_ASSIGN_OR_RETURN(std::unique_ptr<layer::LayerMountManager> manager,
                        layer::LayerMountManager::Create(mopts));
  layer::LayerMountOptions lopts;
  lopts.prefetch = fetch::PrefetchMode::kNone;  // only what the workload reads may enter the profile
  lopts.record_access = true;
  lopts.kernel.readahead_kb = options.readahead_kb;
  lopts.kernel.startup_readahead_kb = options.readahead_kb;
  if (spec.user_namespace) lopts.ids = fuse::IdShift{kSandboxIdBase, kSandboxIdCount};
  std::vector<fs::path> mountpoints;
  for (size_t i = 0; i < rt.layers.size(); ++i) {
    const oci::Descriptor& layer = rt.layers[i];
    fs::path mp = options.work_dir / "layers" / std::to_string(i);
    fs::create_directories(mp, ec);
    auto size = static_cast<uint64_t>(layer.size);
    auto where = layer::IndexLocationFromAnnotations(layer.annotations, size);
    layer::IndexLocation index;
    if (where.ok()) {
      index = *where;
    } else {
      index.blob_size = size;
    }
    TIDE_ASSIGN_OR_RETURN(std::unique_ptr<fetch::FileBlobSource> blob,
                          fetch::FileBlobSource::Open(layout.BlobPath(layer.digest)));
    TIDE_RETURN_IF_ERROR(manager->MountBlob(layer.digest.str(), std::move(blob), index, mp, lopts));
    mountpoints.push_back(mp);
  }
  SandboxResult result;
  result.user_namespace = spec.user_namespace;
  {
    std::vector<fs::path> top_first(mountpoints.rbegin(), mountpoints.rend());
    TIDE_ASSIGN_OR_RETURN(OverlayMount overlay, OverlayMount::Create(top_first, options.work_dir / "upper",
                                                                     options.work_dir / "work", spec.root));
    TIDE_RETURN_IF_ERROR(SetUser(rt.user, spec));
    TIDE_ASSIGN_OR_RETURN(SandboxProcess proc, SandboxProcess::Start(spec));
    WaitForReady(proc, options, result);
  }  // the workload is killed before the overlay goes
  std::vector<LayerRecords> layers;
  for (size_t i = 0; i < mountpoints.size(); ++i) {
    layer::LayerMount* mount = manager->Find(mountpoints[i]);
    if (mount == nullptr || mount->recorder() == nullptr) continue;
    const format::LayerIndex& index = mount->index();
    layers.push_back({rt.diff_ids[i], mount->recorder()->Snapshot(),
                      [&index](uint32_t id) { return std::string(index.path(index.Resolve(id))); }});
  }
  result.profile = MergeLayerRecords(layers);
  return result;
}

}  // namespace tide::profile
