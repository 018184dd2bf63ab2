#include "fuse/fuse_mount.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"

namespace tide::fuse {
namespace {

constexpr unsigned long kFuseSuperMagic = 0x65735546;

// The FUSE connection number of the filesystem mounted at `path`, or 0 if it is not FUSE.
unsigned ConnectionOf(const std::filesystem::path& path) {
  struct statfs fs {};
  struct stat st {};
  if (::statfs(path.c_str(), &fs) != 0 || static_cast<unsigned long>(fs.f_type) != kFuseSuperMagic) return 0;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<unsigned>(st.st_dev);  // fusectl names connections by the raw device number
}

void WriteSysfs(const std::string& path, const std::string& value) {
  std::ofstream f(path);
  f << value;
}

}  // namespace

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

absl::StatusOr<std::unique_ptr<FuseMount>> FuseMount::Start(const std::filesystem::path& mountpoint,
                                                            const fuse_lowlevel_ops& ops, void* userdata,
                                                            const FuseMountOptions& options) {
  std::string opts = absl::StrCat("ro,default_permissions,fsname=", options.fsname, ",subtype=tide");
  if (options.allow_other) opts += ",allow_other";
  std::vector<std::string> argv_storage = {"tide", "-o", opts};
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  std::unique_ptr<FuseMount> m(new FuseMount());
  m->mountpoint_ = mountpoint;
  m->session_ = fuse_session_new(&args, &ops, sizeof(ops), userdata);
  if (m->session_ == nullptr) {
    return absl::InternalError(absl::StrCat("fuse_session_new for ", mountpoint.string(), " failed"));
  }
  if (fuse_session_mount(m->session_, mountpoint.c_str()) != 0) {
    fuse_session_destroy(m->session_);
    m->session_ = nullptr;
    return absl::InternalError(absl::StrCat("mount FUSE at ", mountpoint.string(),
                                            " failed (is it an existing directory? see log)"));
  }
  fuse_session* se = m->session_;
  int max_threads = options.max_threads;
  FuseMount* raw = m.get();
  m->loop_ = std::thread([se, max_threads, raw] {
    fuse_loop_config* config = fuse_loop_cfg_create();
    fuse_loop_cfg_set_max_threads(config, static_cast<unsigned>(max_threads));
    // Threads start on demand; few stay idle, so many mounted layers cost few threads.
    fuse_loop_cfg_set_idle_threads(config, static_cast<unsigned>(std::min(max_threads, 4)));
    fuse_session_loop_mt(se, config);
    fuse_loop_cfg_destroy(config);
    raw->finished_ = true;
  });
  // The kernel answers INIT before stat on the mountpoint returns, so the connection is known now.
  m->connection_ = ConnectionOf(mountpoint);
  if (options.readahead_kb != 0 && m->connection_ != 0) {
    struct stat st {};
    if (::stat(mountpoint.c_str(), &st) == 0) {
      WriteSysfs(absl::StrCat("/sys/class/bdi/", major(st.st_dev), ":", minor(st.st_dev), "/read_ahead_kb"),
                 std::to_string(options.readahead_kb));
    }
  }
  return m;
}

void FuseMount::Stop() {
  if (stopped_) return;
  stopped_ = true;
  fuse_session_exit(session_);
  // Readers blocked in the filesystem would keep a lazily unmounted connection alive; aborting it
  // fails them with ENOTCONN and ends every worker's read of /dev/fuse.
  AbortFuseConnection(connection_);
  fuse_session_unmount(session_);
  if (loop_.joinable()) loop_.join();
  fuse_session_destroy(session_);
  session_ = nullptr;
}

FuseMount::~FuseMount() { Stop(); }

}  // namespace tide::fuse
