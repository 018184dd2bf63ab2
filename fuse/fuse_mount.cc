#include "fuse/fuse_mount.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "fuse/fuse_replay.h"

namespace tide::fuse {
namespace {

// mountinfo writes space, tab, newline and backslash in paths as octal escapes.
std::string EscapeMountinfo(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\%03o", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

// The FUSE connection number of the filesystem mounted at `path`, or 0 if it is not FUSE. Read from
// mountinfo, never from the filesystem: a connection nobody serves yet (kept across a restart)
// would block stat or statfs until someone does.
unsigned ConnectionOf(const std::filesystem::path& path) {
  std::ifstream in("/proc/self/mountinfo");
  const std::string want = EscapeMountinfo(path.lexically_normal().string());
  unsigned connection = 0;
  std::string line;
  while (std::getline(in, line)) {
    // id parent major:minor root mountpoint options [optional...] - fstype source super-options
    std::istringstream fields(line);
    std::string id, parent, dev, root, mountpoint;
    if (!(fields >> id >> parent >> dev >> root >> mountpoint) || mountpoint != want) continue;
    size_t dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 4, "fuse") != 0) {
      connection = 0;  // the last mount on a path is the one that is visible
      continue;
    }
    unsigned major = 0, minor = 0;
    // fusectl names connections by the raw device number, which for major 0 is the minor.
    connection = std::sscanf(dev.c_str(), "%u:%u", &major, &minor) == 2 && major == 0 ? minor : 0;
  }
  return connection;
}

// The sysfs file of the mount's bdi read_ahead_kb; empty if the mountpoint cannot be stat'ed.
std::string ReadaheadPathOf(const std::filesystem::path& mountpoint) {
  struct stat st {};
  if (::stat(mountpoint.c_str(), &st) != 0) return {};
  return absl::StrCat("/sys/class/bdi/", major(st.st_dev), ":", minor(st.st_dev), "/read_ahead_kb");
}

void WriteSysfs(const std::string& path, const std::string& value) {
  std::ofstream f(path);
  f << value;
}

}  // namespace

void FuseMount::SetReadaheadKb(uint32_t kb) {
  if (!readahead_path_.empty() && !finished_) WriteSysfs(readahead_path_, std::to_string(kb));
}

void FuseMount::InvalidateData(fuse_ino_t ino) {
  if (session_ != nullptr && !finished_) fuse_lowlevel_notify_inval_inode(session_, ino, 0, 0);
}

void AbortFuseConnection(unsigned connection) {
  if (connection != 0) WriteSysfs(absl::StrCat("/sys/fs/fuse/connections/", connection, "/abort"), "1");
}

absl::Status ForceUnmount(const std::filesystem::path& path) {
  AbortFuseConnection(ConnectionOf(path));
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return absl::InternalError(absl::StrCat("unmount ", path.string(), ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<FuseMount>> FuseMount::NewSession(const std::filesystem::path& mountpoint,
                                                                 const fuse_lowlevel_ops& ops, void* userdata,
                                                                 const FuseMountOptions& options) {
  std::string opts = absl::StrCat("ro,default_permissions,fsname=", options.fsname, ",subtype=tide");
  if (options.allow_other) opts += ",allow_other";
  std::vector<std::string> argv_storage = {"tide", "-o", opts};
  std::vector<char*> argv;
  argv.reserve(argv_storage.size());
  for (auto& a : argv_storage) argv.push_back(a.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  std::unique_ptr<FuseMount> m(new FuseMount());
  m->mountpoint_ = mountpoint;
  m->session_ = fuse_session_new(&args, &ops, sizeof(ops), userdata);
  if (m->session_ == nullptr) {
    return absl::InternalError(absl::StrCat("fuse_session_new for ", mountpoint.string(), " failed"));
  }
  return m;
}

void FuseMount::StartLoop(const FuseMountOptions& options) {
  fuse_session* se = session_;
  int max_threads = options.max_threads;
  loop_ = std::thread([se, max_threads, this] {
    fuse_loop_config* config = fuse_loop_cfg_create();
    fuse_loop_cfg_set_max_threads(config, static_cast<unsigned>(max_threads));
    // Threads start on demand; few stay idle, so many mounted layers cost few threads.
    fuse_loop_cfg_set_idle_threads(config, static_cast<unsigned>(std::min(max_threads, 4)));
    fuse_session_loop_mt(se, config);
    fuse_loop_cfg_destroy(config);
    finished_ = true;
  });
}

absl::StatusOr<std::unique_ptr<FuseMount>> FuseMount::Start(const std::filesystem::path& mountpoint,
                                                            const fuse_lowlevel_ops& ops, void* userdata,
                                                            const FuseMountOptions& options) {
  auto made = NewSession(mountpoint, ops, userdata, options);
  if (!made.ok()) return made.status();
  std::unique_ptr<FuseMount> m = std::move(*made);
  if (fuse_session_mount(m->session_, mountpoint.c_str()) != 0) {
    fuse_session_destroy(m->session_);
    m->session_ = nullptr;
    return absl::InternalError(absl::StrCat("mount FUSE at ", mountpoint.string(),
                                            " failed (is it an existing directory? see log)"));
  }
  m->StartLoop(options);
  // The kernel answers INIT before stat on the mountpoint returns, so the connection is known now.
  m->connection_ = ConnectionOf(mountpoint);
  if (m->connection_ != 0) m->readahead_path_ = ReadaheadPathOf(mountpoint);
  if (options.readahead_kb.has_value()) m->SetReadaheadKb(*options.readahead_kb);
  if (options.keepers != nullptr) {
    // Without a keeper the mount works as before; only a restart of the daemon would end it.
    absl::Status kept = options.keepers->Keep(mountpoint, fuse_session_fd(m->session_));
    if (kept.ok()) {
      m->keepers_ = options.keepers;
    } else {
      log::Warn("FUSE connection not handed to a keeper: a restart will end it",
                {{"mountpoint", mountpoint.string()}, {"error", kept.message()}});
    }
  }
  return m;
}

absl::StatusOr<std::unique_ptr<FuseMount>> FuseMount::Adopt(const std::filesystem::path& mountpoint,
                                                            UniqueFd fd, const fuse_lowlevel_ops& ops,
                                                            void* userdata, const FuseMountOptions& options) {
  unsigned connection = ConnectionOf(mountpoint);
  if (connection == 0) {
    return absl::FailedPreconditionError(absl::StrCat(mountpoint.string(), " is not a FUSE mount any more"));
  }
  auto made = NewSession(mountpoint, ops, userdata, options);
  if (!made.ok()) return made.status();
  std::unique_ptr<FuseMount> m = std::move(*made);
  m->adopted_ = true;
  m->connection_ = connection;
  m->keepers_ = options.keepers;
  // libfuse serves an already open device given as /dev/fd/N; from here the session owns it.
  const int raw = fd.release();
  if (fuse_session_mount(m->session_, absl::StrCat("/dev/fd/", raw).c_str()) != 0) {
    close(raw);
    fuse_session_destroy(m->session_);
    m->session_ = nullptr;
    return absl::InternalError(absl::StrCat("cannot serve the kept connection of ", mountpoint.string()));
  }
  ReplayInit(m->session_);
  absl::Status resent = RequestResend(raw);
  if (!resent.ok()) {
    log::Warn(
        "the kernel cannot resend requests the previous daemon had read; their readers wait "
        "until the layer is unmounted",
        {{"mountpoint", mountpoint.string()}, {"error", resent.message()}});
  }
  m->StartLoop(options);
  // After the loop starts: the stat may need this daemon to answer.
  m->readahead_path_ = ReadaheadPathOf(mountpoint);
  return m;
}

void FuseMount::Stop() {
  if (stopped_) return;
  stopped_ = true;
  fuse_session_exit(session_);
  if (keepers_ != nullptr) keepers_->Forget(mountpoint_);
  // Readers blocked in the filesystem would keep a lazily unmounted connection alive; aborting it
  // fails them with ENOTCONN and ends every worker's read of /dev/fuse (and its keeper's wait).
  AbortFuseConnection(connection_);
  if (adopted_) {
    ::umount2(mountpoint_.c_str(), MNT_DETACH);  // libfuse did not mount it, so it does not unmount it
  } else {
    fuse_session_unmount(session_);
  }
  if (loop_.joinable()) loop_.join();
  fuse_session_destroy(session_);
  session_ = nullptr;
}

FuseMount::~FuseMount() { Stop(); }

}  // namespace tide::fuse
