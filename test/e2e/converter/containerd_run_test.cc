#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "test/integration/converter/roundtrip_check.h"
#include "test/support/containerd_process.h"
#include "test/support/registry_process.h"
#include "test/support/rootfs_listing.h"
#include "test/support/subprocess.h"

using namespace tide::testing;

namespace {

// Same with python3, adding symlink targets and xattrs (security.capability included).
const char* kPythonListing = R"(
import hashlib, os, stat
root_dev = os.lstat('/').st_dev
rows = []
for top, dirs, files in os.walk('/'):
    dirs[:] = [d for d in dirs if os.lstat(os.path.join(top, d)).st_dev == root_dev]
    for name in [''] + dirs + files:
        p = os.path.join(top, name) if name else top
        if name == '' and top != '/':
            continue
        st = os.lstat(p)
        row = [p, oct(st.st_mode), str(st.st_uid), str(st.st_gid), str(st.st_size), str(int(st.st_mtime)),
               str(st.st_rdev)]
        if stat.S_ISLNK(st.st_mode):
            row.append('-> ' + os.readlink(p))
        elif stat.S_ISREG(st.st_mode):
            with open(p, 'rb') as f:
                row.append(hashlib.sha256(f.read()).hexdigest())
        try:
            for k in sorted(os.listxattr(p, follow_symlinks=False)):
                row.append(k + '=' + os.getxattr(p, k, follow_symlinks=False).hex())
        except OSError:
            pass
        rows.append('|'.join(row))
print('\n'.join(sorted(rows)))
print('LISTING-DONE')
)";

std::string RunListing(ContainerdProcess& containerd, const std::string& ref, const std::string& id,
                       const std::vector<std::string>& command) {
  auto pull = containerd.Ctr({"images", "pull", "--plain-http", ref});
  INFO(pull.output);
  REQUIRE(pull.exit_code == 0);
  std::vector<std::string> args{"run", "--rm", ref, id};
  args.insert(args.end(), command.begin(), command.end());
  auto run = containerd.Ctr(args);
  INFO(run.output.substr(0, 4000));
  REQUIRE(run.exit_code == 0);
  return WithoutRuntimeMounts(run.output);
}

void PushSource(const std::string& layout_ref, const std::string& dest) {
  auto push = RunCommand({"skopeo", "copy", "--dest-tls-verify=false", layout_ref, "docker://" + dest},
                         std::chrono::seconds(300));
  INFO(push.output);
  REQUIRE(push.exit_code == 0);
}

}  // namespace

TEST_CASE("tide images run on plain containerd with the same file tree as their sources",
          "[converter][e2e]") {
  auto registry = RegistryProcess::Start();
  REQUIRE(registry.ok());
  const std::string host = (*registry)->host();
  auto containerd = ContainerdProcess::Start();
  REQUIRE(containerd.ok());

  SECTION("edge-case image, converted from an OCI layout and pushed by tidectl") {
    PushSource("oci:" + TestImagesDir() + "/edge:v1", host + "/src/edge:v1");
    auto convert = Tidectl({"convert", "--plain-http", "oci:" + TestImagesDir() + "/edge:v1",
                            "docker://" + host + "/tide/edge:v1"});
    INFO(convert.output);
    REQUIRE(convert.exit_code == 0);
    auto raw = RunCommand(
        {"skopeo", "inspect", "--raw", "--tls-verify=false", "docker://" + host + "/tide/edge:v1"});
    REQUIRE(raw.exit_code == 0);
    CHECK(raw.output.find("\"containerd.io/snapshot/tide.repository\":\"" + host + "/tide/edge\"") !=
          std::string::npos);
    CHECK(raw.output.find("application/vnd.oci.image.layer.v1.tar+zstd") != std::string::npos);
    // inspect reads each index with one ranged request, verified against the annotations.
    auto inspect = Tidectl({"inspect", "--plain-http", "docker://" + host + "/tide/edge:v1"});
    INFO(inspect.output);
    REQUIRE(inspect.exit_code == 0);
    CHECK(inspect.output.find("layer 2 ") != std::string::npos);
    CHECK(inspect.output.find("startup set:") != std::string::npos);

    std::string want =
        RunListing(**containerd, host + "/src/edge:v1", "edge-src", {"/bin/sh", "-c", kBusyboxRootfsListing});
    std::string got = RunListing(**containerd, host + "/tide/edge:v1", "edge-tide",
                                 {"/bin/sh", "-c", kBusyboxRootfsListing});
    CHECK(want.find("/edge/multi-chunk.bin|regular file") != std::string::npos);
    CHECK(want.find("/edge/char-null|character special file") != std::string::npos);
    CHECK(want.find("/etc/motd|") == std::string::npos);  // whiteout applied
    CHECK(want.find(".wh.") == std::string::npos);
    CHECK(got == want);
  }

  SECTION("multi-platform Docker manifest list pushed as an OCI index") {
    auto convert = Tidectl({"convert", "-q", "--plain-http", "oci:" + TestImagesDir() + "/multi:v1",
                            "docker://" + host + "/tide/multi:v1"});
    INFO(convert.output);
    REQUIRE(convert.exit_code == 0);
    auto raw = RunCommand(
        {"skopeo", "inspect", "--raw", "--tls-verify=false", "docker://" + host + "/tide/multi:v1"});
    INFO(raw.output);
    REQUIRE(raw.exit_code == 0);
    CHECK(raw.output.find("application/vnd.oci.image.index.v1+json") != std::string::npos);
    CHECK(raw.output.find("\"arm64\"") != std::string::npos);
    auto pull = (*containerd)->Ctr({"images", "pull", "--plain-http", host + "/tide/multi:v1"});
    INFO(pull.output);
    REQUIRE(pull.exit_code == 0);
    auto run = (*containerd)->Ctr({"run", "--rm", host + "/tide/multi:v1", "multi-tide"});
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    CHECK(run.output.find("data") != std::string::npos);
  }

  SECTION("Debian image, converted registry to registry") {
    PushSource("oci:" + TestImagesDir() + "/debian:bookworm", host + "/src/debian:bookworm");
    auto convert = Tidectl({"convert", "--plain-http", "docker://" + host + "/src/debian:bookworm",
                            "docker://" + host + "/tide/debian:bookworm"});
    INFO(convert.output);
    REQUIRE(convert.exit_code == 0);
    std::string want =
        RunListing(**containerd, host + "/src/debian:bookworm", "deb-src", {"python3", "-c", kPythonListing});
    std::string got = RunListing(**containerd, host + "/tide/debian:bookworm", "deb-tide",
                                 {"python3", "-c", kPythonListing});
    REQUIRE(want.find("LISTING-DONE") != std::string::npos);
    CHECK(want.find("/usr/bin/python3.11|") != std::string::npos);
    CHECK(want.find("/edge/cap-binary|") != std::string::npos);
    CHECK(want.find("security.capability=") != std::string::npos);
    CHECK(want.find("/usr/share/doc/") != std::string::npos);
    CHECK(got == want);
  }
}
