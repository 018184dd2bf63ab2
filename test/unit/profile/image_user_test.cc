// An image's User resolved against its own /etc/passwd and /etc/group, as runc does, without
// leaving the image root and without reading what is not a small regular file.
#include "profile/image_user.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "common/unique_fd.h"
#include "test/support/temp_dir.h"

namespace {

using tide::UniqueFd;
using tide::profile::ImageUser;
using tide::profile::ResolveImageUser;
using tide::testing::TempDir;
using tide::testing::WriteFile;

constexpr char kPasswd[] =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment\n"
    "app:x:1000:1000:App:/home/app:/bin/sh\n"
    "broken:x:notanumber:1:::\n";
constexpr char kGroup[] =
    "root:x:0:\n"
    "wheel:x:10:root\n"
    "staff:x:50:\n"
    "app:x:1000:\n"
    "sudo:x:27:root,app\n";

struct ImageRoot {
  TempDir dir{"tide-image-user"};
  std::filesystem::path root = dir / "root";
  ImageRoot() { std::filesystem::create_directories(root / "etc"); }
  UniqueFd Open() const { return UniqueFd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)); }
};

}  // namespace

TEST_CASE("image users resolve like runc: names, numbers, groups, home", "[profile][user]") {
  ImageRoot r;
  WriteFile(r.root / "etc/passwd", kPasswd);
  WriteFile(r.root / "etc/group", kGroup);
  UniqueFd fd = r.Open();
  REQUIRE(fd.valid());

  auto root = ResolveImageUser(fd.get(), "");
  REQUIRE(root.ok());
  CHECK(root->uid == 0);
  CHECK(root->gid == 0);
  CHECK(root->home == "/root");
  CHECK(root->groups == std::vector<gid_t>{10, 27});

  auto app = ResolveImageUser(fd.get(), "app");
  REQUIRE(app.ok());
  CHECK(app->uid == 1000);
  CHECK(app->gid == 1000);
  CHECK(app->home == "/home/app");
  CHECK(app->groups == std::vector<gid_t>{27});

  auto by_number = ResolveImageUser(fd.get(), "1000");
  REQUIRE(by_number.ok());
  CHECK(by_number->gid == 1000);
  CHECK(by_number->home == "/home/app");

  auto staff = ResolveImageUser(fd.get(), "app:staff");
  REQUIRE(staff.ok());
  CHECK(staff->gid == 50);

  // A numeric uid need not exist: gid 0 and home /, unless a gid is given.
  auto unknown = ResolveImageUser(fd.get(), "4242");
  REQUIRE(unknown.ok());
  CHECK(unknown->uid == 4242);
  CHECK(unknown->gid == 0);
  CHECK(unknown->home == "/");
  auto both = ResolveImageUser(fd.get(), "4242:4243");
  REQUIRE(both.ok());
  CHECK(both->gid == 4243);
  CHECK(both->groups.empty());

  auto ghost = ResolveImageUser(fd.get(), "ghost");
  REQUIRE(!ghost.ok());
  CHECK(std::string(ghost.status().message()).find("no user \"ghost\" in the image's /etc/passwd") !=
        std::string::npos);
  auto no_group = ResolveImageUser(fd.get(), "app:ghosts");
  REQUIRE(!no_group.ok());
  CHECK(std::string(no_group.status().message()).find("no group \"ghosts\"") != std::string::npos);
  CHECK(!ResolveImageUser(fd.get(), "broken").ok());
}

TEST_CASE("an image's user database is read inside the image root only", "[profile][user]") {
  ImageRoot r;
  // A host file the image's absolute symlink names: it must not be what is read.
  WriteFile(r.dir / "host-passwd", "app:x:4242:4242::/host:/bin/sh\n");
  std::filesystem::create_symlink(r.dir / "host-passwd", r.root / "etc/passwd");
  UniqueFd fd = r.Open();
  auto app = ResolveImageUser(fd.get(), "app");
  REQUIRE(!app.ok());
  CHECK(std::string(app.status().message()).find("cannot use the image's /etc/passwd") != std::string::npos);

  // A relative symlink that climbs out stops at the image root, too.
  std::filesystem::remove(r.root / "etc/passwd");
  std::filesystem::create_symlink("../../../host-passwd", r.root / "etc/passwd");
  CHECK(!ResolveImageUser(fd.get(), "app").ok());
  // Inside the root it is followed.
  WriteFile(r.root / "host-passwd", "app:x:7:7::/in:/bin/sh\n");
  auto inside = ResolveImageUser(fd.get(), "app");
  REQUIRE(inside.ok());
  CHECK(inside->uid == 7);
}

TEST_CASE("an image's user database that is no small regular file is refused at once", "[profile][user]") {
  ImageRoot r;
  // A fifo would block an open for reading until a writer came.
  REQUIRE(::mkfifo((r.root / "etc/passwd").c_str(), 0644) == 0);
  UniqueFd fd = r.Open();
  auto fifo = ResolveImageUser(fd.get(), "app");
  REQUIRE(!fifo.ok());
  CHECK(std::string(fifo.status().message()).find("not a regular file") != std::string::npos);
  // Root needs no lookup that must succeed.
  auto root = ResolveImageUser(fd.get(), "");
  REQUIRE(root.ok());
  CHECK(root->uid == 0);

  std::filesystem::remove(r.root / "etc/passwd");
  WriteFile(r.root / "etc/passwd", std::string((4 << 20) + 1, '#'));
  auto big = ResolveImageUser(fd.get(), "app");
  REQUIRE(!big.ok());
  CHECK(std::string(big.status().message()).find("more than the") != std::string::npos);
}
