// The soak test's workload, run inside each container: the startup "import walk" over one tree of the
// image, then steady reads of random files until told to stop. Every file is hashed and checked
// against the manifest built with the image, and every read() is timed. It drops the page cache of
// each file before reading it, so reads keep reaching tide-snapshotter instead of memory.
//
//   soak_reader MANIFEST OUT_DIR WALK_PREFIX BOUND_MS SEED
//
// Control files in OUT_DIR/..: "stop" ends the run; "full-pass" holding N asks for a full pass over
// every file (once per N), whose counts go to OUT_DIR/full-N. Results in OUT_DIR: "stats" (rewritten
// each second), "walk" (when the walk is done), "events" (one line per failed, wrong or slow read),
// "finished". Plain C++ and libcrypto only: it runs on the host's loader and libraries, bind-mounted.
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Entry {
  std::string path;
  std::string sha256;  // hex
  uint64_t size = 0;
};

struct Counts {
  uint64_t files = 0;
  uint64_t reads = 0;  // read() calls
  uint64_t bytes = 0;
  uint64_t eio = 0;     // files whose read failed with EIO
  uint64_t errors = 0;  // any other failure (open, other errno)
  uint64_t wrong = 0;   // files read without error whose bytes differ from the manifest
  uint64_t slow = 0;    // read() calls (or opens) that took longer than the bound
  int64_t max_us = 0;
};

class Reader {
 public:
  Reader(fs::path out, int64_t bound_us) : out_(std::move(out)), bound_us_(bound_us) {}

  // Reads the whole file; returns what happened to it in `c`.
  void Check(const Entry& e, Counts& c) {
    ++c.files;
    const auto opened = Clock::now();
    int fd = ::open(e.path.c_str(), O_RDONLY | O_CLOEXEC);
    Time(c, opened, e.path, "open");
    if (fd < 0) {
      ++(errno == EIO ? c.eio : c.errors);
      Event("ERR", e.path, std::strerror(errno));
      return;
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr);
    while (true) {
      const auto began = Clock::now();
      ssize_t n = ::read(fd, buffer_.data(), buffer_.size());
      ++c.reads;
      Time(c, began, e.path, "read");
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        ++(errno == EIO ? c.eio : c.errors);
        Event("ERR", e.path, std::strerror(errno));
        ::close(fd);
        return;
      }
      if (n == 0) break;
      c.bytes += static_cast<uint64_t>(n);
      EVP_DigestUpdate(md.get(), buffer_.data(), static_cast<size_t>(n));
    }
    ::close(fd);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(md.get(), digest, &len);
    std::string hex;
    char two[3];
    for (unsigned int i = 0; i < len; ++i) {
      std::snprintf(two, sizeof(two), "%02x", digest[i]);
      hex += two;
    }
    if (hex != e.sha256) {
      ++c.wrong;
      Event("BAD", e.path, "sha256 " + hex + " expected " + e.sha256);
    }
  }

  void Event(const char* kind, const std::string& path, const std::string& detail) {
    std::ofstream(out_ / "events", std::ios::app)
        << kind << " " << std::chrono::system_clock::now().time_since_epoch().count() << " " << path << " "
        << detail << "\n";
  }

 private:
  void Time(Counts& c, Clock::time_point began, const std::string& path, const char* what) {
    const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - began).count();
    if (us > c.max_us) c.max_us = us;
    if (us > bound_us_) {
      ++c.slow;
      Event("SLOW", path, std::string(what) + " took " + std::to_string(us / 1000) + " ms");
    }
  }

  fs::path out_;
  int64_t bound_us_;
  // One FUSE read request at most (max_read is 128 KiB), so the time of a read() is the time of a
  // request to tide.
  std::vector<char> buffer_ = std::vector<char>(128 << 10);
};

std::vector<Entry> LoadManifest(const fs::path& path) {
  std::vector<Entry> entries;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const size_t sep = line.find("  ");
    if (sep != 64) continue;
    Entry e{line.substr(sep + 2), line.substr(0, 64), 0};
    std::error_code ec;
    e.size = fs::file_size(e.path, ec);  // a lookup only: metadata comes from the index
    entries.push_back(std::move(e));
  }
  return entries;
}

void WriteAtomically(const fs::path& path, const std::string& text) {
  fs::path tmp = path;
  tmp += ".tmp";
  std::ofstream(tmp) << text;
  fs::rename(tmp, path);
}

std::string Format(const Counts& c) {
  std::ostringstream s;
  s << "files " << c.files << "\nreads " << c.reads << "\nbytes " << c.bytes << "\neio " << c.eio
    << "\nerrors " << c.errors << "\nwrong " << c.wrong << "\nslow " << c.slow << "\nmax_read_us " << c.max_us
    << "\n";
  return s.str();
}

int64_t ReadNumber(const fs::path& path) {
  std::ifstream in(path);
  int64_t n = 0;
  in >> n;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: soak_reader MANIFEST OUT_DIR WALK_PREFIX BOUND_MS SEED\n");
    return 2;
  }
  const fs::path out = argv[2];
  const std::string walk_prefix = argv[3];
  fs::create_directories(out);
  Reader reader(out, std::stoll(argv[4]) * 1000);
  std::mt19937_64 rng(std::stoull(argv[5]));
  const std::vector<Entry> entries = LoadManifest(argv[1]);
  if (entries.empty()) {
    std::fprintf(stderr, "soak_reader: no entries in %s\n", argv[1]);
    return 2;
  }
  uint64_t total_bytes = 0;
  for (const Entry& e : entries) total_bytes += e.size;

  Counts counts;
  const auto walk_began = Clock::now();
  for (const Entry& e : entries) {
    if (e.path.rfind(walk_prefix, 0) == 0) reader.Check(e, counts);
  }
  const double walk_s = std::chrono::duration<double>(Clock::now() - walk_began).count();
  WriteAtomically(out / "walk", Format(counts) + "seconds " + std::to_string(walk_s) + "\n");

  const fs::path control = out.parent_path();
  int64_t full_passes = 0;
  auto last_stats = Clock::now();
  while (!fs::exists(control / "stop")) {
    const int64_t asked = ReadNumber(control / "full-pass");
    if (asked > full_passes) {
      Counts pass;
      for (const Entry& e : entries) reader.Check(e, pass);
      full_passes = asked;
      WriteAtomically(out / ("full-" + std::to_string(asked)), Format(pass));
    }
    // Mostly any file (small ones dominate, as imports do), sometimes weighted by size (the model).
    const Entry* pick = &entries[rng() % entries.size()];
    if (rng() % 5 == 0 && total_bytes > 0) {
      uint64_t at = rng() % total_bytes;
      for (const Entry& e : entries) {
        if (at < e.size) {
          pick = &e;
          break;
        }
        at -= e.size;
      }
    }
    reader.Check(*pick, counts);
    if (Clock::now() - last_stats > std::chrono::seconds(1)) {
      WriteAtomically(out / "stats", Format(counts));
      last_stats = Clock::now();
    }
  }
  WriteAtomically(out / "stats", Format(counts));
  WriteAtomically(out / "finished", "1\n");
  return 0;
}
