// `tidectl optimize` runs an untrusted image's workload confined (docs/security.md "The optimize
// sandbox"): a probe in a hostile image tries each way out and every one fails, with a user
// namespace and without; and what the image puts at /etc/passwd, /etc/group and /dev neither hangs
// tidectl nor leads it out of the image.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "profile/startup_profile.h"
#include "test/integration/profile/tidectl_runner.h"
#include "test/support/free_port.h"
#include "test/support/root_only.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"

using namespace tide::testing;

namespace {

void BuildHostileImage(const std::filesystem::path& layout) {
  auto r = RunCommand(
      {Env("TIDE_SOURCE_DIR") + "/test/integration/profile/build-hostile-image.sh", layout.string(), "v1",
       Env("TIDE_BINARY_DIR") + "/test/integration/profile/sandbox_escape_probe"},
      std::chrono::seconds(60));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
}

std::vector<std::string> OptimizeArgs(const TempDir& tmp, std::vector<std::string> flags,
                                      bool user_namespace) {
  flags.insert(flags.begin(), "optimize");
  if (!user_namespace) flags.push_back("--no-user-namespace");
  for (std::string a : {std::string("--work-dir"), tmp.path().string(),
                        "oci:" + (tmp / "src").string() + ":v1", "oci:" + (tmp / "dst").string() + ":opt"}) {
    flags.push_back(std::move(a));
  }
  return flags;
}

// `tidectl optimize FLAGS... --work-dir <tmp> oci:<tmp>/src:v1 oci:<tmp>/dst:opt`, with
// --no-user-namespace unless `user_namespace`.
CommandResult Optimize(const TempDir& tmp, std::vector<std::string> flags, bool user_namespace = true) {
  return Tidectl(OptimizeArgs(tmp, std::move(flags), user_namespace));
}

// The same on a terminal of its own (util-linux script), as an operator runs it: the terminal is
// then tidectl's controlling terminal, which the workload must not inherit.
CommandResult OptimizeOnTerminal(const TempDir& tmp, std::vector<std::string> flags, bool user_namespace) {
  std::string command = "'" + Env("TIDE_BINARY_DIR") + "/tidectl/tidectl'";
  for (const std::string& arg : OptimizeArgs(tmp, std::move(flags), user_namespace)) {
    command += " '";
    for (char c : arg) command += c == '\'' ? std::string("'\\''") : std::string(1, c);
    command += "'";
  }
  return RunCommand({"script", "-qefc", command, "/dev/null"}, std::chrono::seconds(120));
}

void SetImageUser(const TempDir& tmp, const std::string& user) {
  auto r = RunCommand({"umoci", "config", "--image", (tmp / "src").string() + ":v1", "--config.user", user});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
}

constexpr const char* kAttempts[] = {
    "mount",
    "fsopen",
    "unshare-user-mount",
    "init_module",
    "finit_module",
    "delete_module",
    "host-network",
    "write-host-path",
    "write-core-pattern",
    "write-sysrq",
    "block-device",
    "controlling-terminal",
    "ptrace-host",
    "ptrace-parent",
    "process_vm_readv",
    "chroot-dotdot",
    "proc-1-root",
    "host-marker",
    "name_to_handle_at",
};

}  // namespace

TEST_CASE("a workload under optimize cannot get out of its sandbox", "[profile][optimize][sandbox]") {
  SkipUnlessRootWithFuse();
  TempDir tmp("tide-sandbox");
  BuildHostileImage(tmp / "src");
  // Host things the probe is told about: none may be reachable from inside.
  WriteFile(tmp / "host-marker", "host\n");
  const std::string write_path = (tmp / "escape-write").string();
  auto listener = ListenOnLoopback(4);
  REQUIRE(listener.ok());
  REQUIRE(::fcntl(listener->fd.get(), F_SETFL, O_NONBLOCK) == 0);
  const std::string run = "/probe " + std::to_string(listener->port) + " " + std::to_string(::getpid()) +
                          " " + (tmp / "host-marker").string() + " " + write_path + "; echo READY; sleep 60";

  for (bool user_namespace : {true, false}) {
    DYNAMIC_SECTION((user_namespace ? "with a user namespace where the kernel allows one"
                                    : "as host root with few capabilities")) {
      auto r = OptimizeOnTerminal(tmp,
                                  {"--run", run, "--ready-line", "READY", "--timeout", "60", "--profile-out",
                                   (tmp / "profile.txt").string()},
                                  user_namespace);
      INFO(r.output);
      REQUIRE(r.exit_code == 0);
      REQUIRE(r.output.find("PROBE done") != std::string::npos);
      for (const char* attempt : kAttempts) {
        INFO(attempt);
        CHECK(r.output.find(std::string("PROBE ") + attempt + " blocked") != std::string::npos);
      }
      CHECK(r.output.find("ESCAPED") == std::string::npos);
      if (!user_namespace) CHECK(r.output.find("as host root with few capabilities") != std::string::npos);
      CHECK(::accept(listener->fd.get(), nullptr, nullptr) < 0);
      CHECK(!std::filesystem::exists(write_path));
      // The benign part still works: the workload ran to READY and its reads make a profile.
      CHECK(r.output.find("warning: workload") == std::string::npos);
      auto prof = tide::profile::ReadProfileFile((tmp / "profile.txt").string());
      REQUIRE(prof.ok());
      CHECK(std::any_of(prof->reads.begin(), prof->reads.end(),
                        [](const auto& read) { return read.path == "probe"; }));
    }
  }
}

TEST_CASE("optimize reads an image's user database inside the image and bounded",
          "[profile][optimize][sandbox]") {
  SkipUnlessRootWithFuse();
  TempDir tmp("tide-sandbox");
  // /etc/passwd -> /dev/zero (an endless read on the host), /etc/group a fifo (an open that waits
  // for a writer), /dev -> /tmp: each used to hang tidectl or point it at the host.
  BuildHostileImage(tmp / "src");
  auto r = Optimize(tmp, {"--ready-line", "READY", "--timeout", "60"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("hello from tide") != std::string::npos);
  CHECK(r.output.find("warning: workload") == std::string::npos);
  // The workload's escape sequences reach the terminal as text.
  CHECK(r.output.find("\\x1b[2J\\x1b]0;pwned\\x07") != std::string::npos);
  CHECK(r.output.find('\x1b') == std::string::npos);
}

TEST_CASE("optimize runs the workload as the image's User, without capabilities",
          "[profile][optimize][sandbox][user]") {
  SkipUnlessRootWithFuse();
  TempDir tmp("tide-sandbox");
  auto built = RunCommand(
      {Env("TIDE_SOURCE_DIR") + "/test/integration/profile/build-app-image.sh", (tmp / "src").string(), "v1"},
      std::chrono::seconds(60));
  REQUIRE(built.exit_code == 0);
  SetImageUser(tmp, "4242:4243");
  const std::string run =
      "echo uid=$(/bin/busybox id -u) gid=$(/bin/busybox id -g) home=$HOME; /bin/busybox grep CapEff "
      "/proc/self/status; cat /app/a > /dev/null && echo READY";
  for (bool user_namespace : {true, false}) {
    DYNAMIC_SECTION((user_namespace ? "with a user namespace where the kernel allows one" : "as host ids")) {
      auto r = Optimize(tmp, {"--run", run, "--ready-line", "READY", "--timeout", "60"}, user_namespace);
      INFO(r.output);
      REQUIRE(r.exit_code == 0);
      CHECK(r.output.find("uid=4242 gid=4243 home=/") != std::string::npos);
      CHECK(r.output.find("CapEff:\t0000000000000000") != std::string::npos);
      CHECK(r.output.find("warning: workload") == std::string::npos);
    }
  }
}

TEST_CASE("optimize refuses a User it cannot resolve inside the image",
          "[profile][optimize][sandbox][user]") {
  SkipUnlessRootWithFuse();
  TempDir tmp("tide-sandbox");
  // The hostile image's /etc/passwd is a symlink to /dev/zero.
  BuildHostileImage(tmp / "src");
  SetImageUser(tmp, "app");
  auto r = Optimize(tmp, {"--timeout", "60"});
  INFO(r.output);
  CHECK(r.exit_code != 0);
  CHECK(r.output.find("image user \"app\": cannot use the image's /etc/passwd") != std::string::npos);
}
