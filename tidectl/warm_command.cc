#include "tidectl/warm_command.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tidectl/cache_client.h"
#include "tidectl/pull_progress.h"

namespace tide::tidectl {
namespace {

namespace pb = tide::cache::v1;

struct WarmFlags {
  std::string reference;
  std::string address = kDefaultSnapshotterSocket;
  std::string platform;
  bool all = false;
  bool unpin = false;
};

int Percent(uint64_t part, uint64_t whole) { return whole == 0 ? 100 : static_cast<int>(part * 100 / whole); }

std::string ProgressLine(const pb::WarmProgress& p) {
  return absl::StrCat(Percent(p.bytes_cached(), p.bytes_total()), "%  ",
                      HumanBytes(static_cast<int64_t>(p.bytes_cached())), " of ",
                      HumanBytes(static_cast<int64_t>(p.bytes_total())), " cached, ",
                      HumanBytes(static_cast<int64_t>(p.bytes_fetched())), " fetched");
}

std::string Bar(int percent) {
  constexpr int kWidth = 30;
  const int filled = percent * kWidth / 100;
  return absl::StrCat("[", std::string(filled, '#'), std::string(kWidth - filled, '.'), "]");
}

int RunUnpin(const WarmFlags& flags) {
  auto stub = ConnectCache(flags.address);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  pb::UnpinRequest request;
  request.set_reference(flags.reference);
  pb::UnpinResponse response;
  grpc::Status st = stub->Unpin(&context, request, &response);
  if (!st.ok()) {
    std::fprintf(stderr, "tidectl warm --unpin: %s\n", DescribeCacheError(flags.address, st).c_str());
    return 1;
  }
  std::printf("unpinned %s: its chunks may be evicted again\n", flags.reference.c_str());
  return 0;
}

int RunWarm(const WarmFlags& flags) {
  auto stub = ConnectCache(flags.address);
  grpc::ClientContext context;
  pb::WarmRequest request;
  request.set_reference(flags.reference);
  request.set_all(flags.all);
  request.set_platform(flags.platform);
  auto reader = stub->Warm(&context, request);
  const bool terminal = ::isatty(STDOUT_FILENO) != 0;
  pb::WarmProgress progress, last;
  bool first = true;
  int printed_decile = -1;
  while (reader->Read(&progress)) {
    if (first) {
      std::printf("warming %s (%s), manifest %s\n%s", flags.reference.c_str(),
                  flags.all ? "whole image" : "startup set", progress.manifest().c_str(),
                  FormatWarmPlan(progress).c_str());
      first = false;
    }
    const int percent = Percent(progress.bytes_cached(), progress.bytes_total());
    if (terminal) {
      std::printf("\r%s %s\033[K", Bar(percent).c_str(), ProgressLine(progress).c_str());
    } else if (percent / 10 > printed_decile) {  // a line per 10%, fit for logs
      printed_decile = percent / 10;
      std::printf("%s\n", ProgressLine(progress).c_str());
    }
    std::fflush(stdout);
    last = progress;
  }
  if (terminal && !first) std::printf("\n");
  grpc::Status st = reader->Finish();
  if (!st.ok()) {
    std::fprintf(stderr, "tidectl warm: %s\n", DescribeCacheError(flags.address, st).c_str());
    return 1;
  }
  if (last.chunks_total() == 0) {
    std::printf(
        "nothing to warm in %s beyond its tide layers' indexes: no layer has chunks to warm (see above)\n",
        flags.reference.c_str());
    return 0;
  }
  std::printf("warmed %s: %s in %llu chunks cached and pinned, %s fetched from the registry\n",
              flags.reference.c_str(), HumanBytes(static_cast<int64_t>(last.bytes_cached())).c_str(),
              static_cast<unsigned long long>(last.chunks_cached()),
              HumanBytes(static_cast<int64_t>(last.bytes_fetched())).c_str());
  return 0;
}

}  // namespace

std::string FormatWarmPlan(const pb::WarmProgress& plan) {
  std::string out;
  for (const pb::LayerPlan& layer : plan.layers()) {
    const std::string digest = layer.digest().substr(0, 19);
    if (layer.path() == "tide") {
      absl::StrAppendFormat(&out, "  layer %s  %s in %d chunks\n", digest,
                            HumanBytes(static_cast<int64_t>(layer.bytes())), layer.chunks());
    } else {
      absl::StrAppendFormat(&out, "  layer %s  skipped: %s\n", digest, layer.path());
    }
  }
  return out;
}

void AddWarmCommand(CLI::App& app) {
  auto flags = std::make_shared<WarmFlags>();
  CLI::App* cmd = app.add_subcommand(
      "warm", "Fill this node's chunk cache with an image (its startup set, or --all) and pin it there");
  cmd->add_option("reference", flags->reference, "Image reference (host/repo:tag or @digest)")->required();
  cmd->add_flag("--all", flags->all, "Warm the whole image, not only its startup set");
  cmd->add_flag("--unpin", flags->unpin, "Unpin a warmed image: its chunks may be evicted again");
  cmd->add_option("--platform", flags->platform,
                  "os/arch[/variant] of an image index (default: this node's)");
  cmd->add_option("--address", flags->address, "tide-snapshotter's unix socket")->capture_default_str();
  cmd->callback([flags] {
    int rc = flags->unpin ? RunUnpin(*flags) : RunWarm(*flags);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace tide::tidectl
