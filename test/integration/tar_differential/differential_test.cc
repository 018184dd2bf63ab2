// Differential test: crafted archives (crafted_tars.cc) and GNU tar's archives of a real tree are
// listed by tide's TarReader and by go_tar_list, a small Go program reading them with Go's
// archive/tar as containerd does. Where tide accepts an archive, both listings must be equal, else
// a converted layer would hold another tree than the one containerd extracts under the same diff_id.

#include <catch2/catch.hpp>
#include <filesystem>

#include "test/integration/tar_differential/crafted_tars.h"
#include "test/integration/tar_differential/tar_listing.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"

namespace tide::testing {
namespace {

bool Rejected(const std::string& listing) {
  return listing.rfind("ERROR ", 0) == 0 || listing.find("\nERROR ") != std::string::npos;
}

TEST_CASE("tide lists every crafted tar as Go's archive/tar does, or rejects it") {
  const std::string go_lister = TIDE_GO_TAR_LIST;
  REQUIRE(std::filesystem::exists(go_lister));
  TempDir dir("tide-tar-differential");
  std::vector<CraftedTar> cases = CraftedTars();
  REQUIRE(cases.size() >= 20);
  CHECK(cases.front().name == "global-pax-size");
  for (const CraftedTar& c : cases) {
    std::filesystem::path path = dir / (c.name + ".tar");
    WriteFile(path, c.bytes);
    CommandResult go = RunCommand({go_lister, path.string()});
    std::string tide = ListWithTide(c.bytes);
    INFO("case " << c.name << (c.tide_accepts ? " (tide must list it as Go does)" : " (tide must reject it)")
                 << "\n--- Go's archive/tar:\n"
                 << go.output << "--- tide:\n"
                 << tide);
    REQUIRE(go.exit_code == 0);
    if (c.tide_accepts) {
      CHECK(tide == go.output);
      CHECK_FALSE(Rejected(go.output));
    } else {
      CHECK(Rejected(tide));
    }
  }
}

// A small tree with what real layers hold: long names, links, odd modes, a fifo, xattrs where the
// file system takes them, and a file with a hole.
void MakeTree(const std::filesystem::path& root) {
  std::string script = "set -e; mkdir -p '" + root.string() + "'; cd '" + root.string() + "'\n" + R"sh(
    mkdir -p d/sub "long/$(printf 'd%.0s' $(seq 60))" short
    printf 'hello\n' > d/file.txt
    : > d/empty
    head -c 100000 /dev/urandom > d/random.bin
    ln d/file.txt d/hardlink
    ln -s file.txt d/symlink
    ln -s ../../nowhere d/sub/dangling
    echo long > "long/$(printf 'd%.0s' $(seq 60))/$(printf 'f%.0s' $(seq 90))"
    mkfifo d/fifo
    chmod 4755 d/file.txt; chmod 1777 d/sub
    printf 'u\303\274n\n' > "d/$(printf 'u\303\274n')"
    echo short > short/a
    setfattr -n user.k -v value d/file.txt 2>/dev/null || true
    dd if=/dev/zero of=d/holes bs=1 count=0 seek=4194304 2>/dev/null; printf end >> d/holes
  )sh";
  CommandResult r = RunShell(script);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
}

TEST_CASE("GNU tar's archives of a real tree list as Go's archive/tar lists them") {
  const std::string go_lister = TIDE_GO_TAR_LIST;
  TempDir dir("tide-tar-differential-real");
  MakeTree(dir / "tree");
  struct Archive {
    std::string name;
    std::string tar_args;
    bool must_accept;  // false: GNU tar may write a sparse entry, which tide rejects
  };
  std::vector<Archive> archives = {
      {"gnu", "--format=gnu .", true},
      {"oldgnu", "--format=oldgnu .", true},
      {"pax", "--format=pax --xattrs .", true},
      {"ustar", "--format=ustar d short", true},
      {"v7", "--format=v7 short", true},
      {"gnu-sparse", "--format=gnu --sparse d", false},
      {"pax-sparse", "--format=pax --sparse d", false},
  };
  for (const Archive& a : archives) {
    std::filesystem::path path = dir / (a.name + ".tar");
    CommandResult made = RunShell("tar -C '" + (dir / "tree").string() + "' -cf '" + path.string() + "' " +
                                  a.tar_args + " 2>&1");
    INFO("archive " << a.name << ": " << made.output);
    REQUIRE(made.exit_code == 0);
    CommandResult go = RunCommand({go_lister, path.string()});
    std::string tide = ListWithTide(ReadFile(path));
    INFO("--- Go's archive/tar:\n" << go.output << "--- tide:\n" << tide);
    REQUIRE(go.exit_code == 0);
    if (a.must_accept || !Rejected(tide)) CHECK(tide == go.output);
    CHECK_FALSE(Rejected(go.output));
  }
}

}  // namespace
}  // namespace tide::testing
