#include "test/integration/snapshotter/snapshots_behaviour.h"

#include <catch2/catch.hpp>
#include <thread>

#include "absl/strings/str_join.h"
#include "test/support/containerd_process.h"
#include "test/support/temp_dir.h"
#include "test/unit/snapshotter/tide_snapshotter_process.h"

using namespace tide::testing;

TEST_CASE("snapshots API behaves like containerd's overlay snapshotter", "[snapshotter][integration]") {
  TempDir dir("tide-behaviour");
  // One tide daemon answers the suite directly, another sits behind containerd as a proxy plugin.
  TideSnapshotterOptions direct_options;
  direct_options.root = dir / "direct";
  direct_options.socket = (dir / "direct.sock").string();
  auto direct = TideSnapshotterProcess::Start(direct_options);
  REQUIRE(direct.ok());
  TideSnapshotterOptions proxied_options;
  proxied_options.root = dir / "proxied";
  proxied_options.socket = (dir / "proxied.sock").string();
  auto proxied = TideSnapshotterProcess::Start(proxied_options);
  REQUIRE(proxied.ok());
  ContainerdOptions containerd_options;
  containerd_options.proxy_snapshotters = {{"tide", (*proxied)->socket()}};
  auto containerd = ContainerdProcess::Start(containerd_options);
  REQUIRE(containerd.ok());

  auto tide_direct = RunSnapshotsBehaviourSuite(
      {.socket = (*direct)->socket(), .snapshotter = "tide", .ns = "", .scratch = dir / "scratch-direct"});
  auto overlay = RunSnapshotsBehaviourSuite({.socket = (*containerd)->address(),
                                             .snapshotter = "overlayfs",
                                             .ns = "behaviour",
                                             .scratch = dir / "scratch-overlay"});
  auto tide_proxied = RunSnapshotsBehaviourSuite({.socket = (*containerd)->address(),
                                                  .snapshotter = "tide",
                                                  .ns = "behaviour",
                                                  .scratch = dir / "scratch-proxied"});
  INFO("tide direct:\n" << absl::StrJoin(tide_direct, "\n"));
  INFO("containerd overlayfs:\n" << absl::StrJoin(overlay, "\n"));
  INFO("containerd tide:\n" << absl::StrJoin(tide_proxied, "\n"));
  REQUIRE(overlay.size() > 50);
  CHECK(tide_proxied == overlay);
  // The one legitimate difference: containerd 1.6's metadata layer is not a Cleaner, so a client's
  // Cleanup through containerd is UNIMPLEMENTED whatever the backend; tide answers it itself.
  REQUIRE(tide_direct.back() == "Cleanup() -> OK");
  REQUIRE(overlay.back() == "Cleanup() -> UNIMPLEMENTED");
  tide_direct.back() = overlay.back();
  CHECK(tide_direct == overlay);

  // Removal through the API removed every directory of the direct daemon. Behind containerd a
  // client's Remove only drops containerd's record; its garbage collector then removes the backend
  // snapshots (List with no filter, Remove children first, Cleanup), which must leave nothing.
  CHECK(std::filesystem::is_empty(dir / "direct" / "snapshots"));
  bool collected = false;
  for (int i = 0; i < 100 && !collected; ++i) {
    collected = std::filesystem::is_empty(dir / "proxied" / "snapshots");
    if (!collected) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  INFO("proxied tide log:\n" << ReadFile((*proxied)->log_path()));
  CHECK(collected);
}
