#include "tidectl/cache_command.h"

#include <google/protobuf/util/json_util.h>

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

struct CacheFlags {
  std::string address = kDefaultSnapshotterSocket;
  bool json = false;
};

std::string Bytes(uint64_t n) { return HumanBytes(static_cast<int64_t>(n)); }

int RunList(const CacheFlags& flags) {
  auto stub = ConnectCache(flags.address);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  pb::ListResponse list;
  grpc::Status st = stub->List(&context, pb::ListRequest(), &list);
  if (!st.ok()) {
    std::fprintf(stderr, "tidectl cache ls: %s\n", DescribeCacheError(flags.address, st).c_str());
    return 1;
  }
  if (flags.json) {
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    options.always_print_primitive_fields = true;
    options.preserve_proto_field_names = true;
    if (!google::protobuf::util::MessageToJsonString(list, &json, options).ok()) return 1;
    std::printf("%s\n", json.c_str());
  } else {
    std::printf("%s", FormatCacheList(list).c_str());
  }
  return 0;
}

}  // namespace

std::string FormatCacheList(const pb::ListResponse& list) {
  std::string out = absl::StrCat("cache: ", Bytes(list.used_bytes()), " in ", list.chunks(), " chunks",
                                 list.max_bytes() ? absl::StrCat(" of ", Bytes(list.max_bytes())) : "", ", ",
                                 Bytes(list.pinned_bytes()), " pinned\n");
  for (const pb::CachedImage& image : list.images()) {
    uint64_t bytes = 0, cached = 0;
    for (const pb::CachedLayer& l : image.layers()) {
      bytes += l.bytes();
      cached += l.bytes_cached();
    }
    absl::StrAppend(&out, "\n", image.reference(),
                    image.pinned() ? absl::StrCat("  pinned (", image.mode(), ")") : "  not pinned (mounted)",
                    "  ", Bytes(cached), " of ", Bytes(bytes), " cached\n");
    for (const pb::CachedLayer& l : image.layers()) {
      absl::StrAppendFormat(&out, "  %-19s  %10s of %10s cached", l.digest().substr(0, 19),
                            Bytes(l.bytes_cached()), Bytes(l.bytes()));
      if (image.pinned()) {
        absl::StrAppendFormat(&out, "  pinned %s of %s", Bytes(l.pinned_bytes_cached()),
                              Bytes(l.pinned_bytes()));
      }
      out += "\n";
    }
  }
  return out;
}

void AddCacheCommand(CLI::App& app) {
  auto flags = std::make_shared<CacheFlags>();
  CLI::App* cache = app.add_subcommand("cache", "The node's chunk cache, as tide-snapshotter keeps it");
  cache->require_subcommand(1);
  CLI::App* ls = cache->add_subcommand("ls", "Cached bytes per image and per layer, and the pins");
  ls->add_option("--address", flags->address, "tide-snapshotter's unix socket")->capture_default_str();
  ls->add_flag("--json", flags->json, "Print the daemon's answer as JSON");
  ls->callback([flags] {
    int rc = RunList(*flags);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace tide::tidectl
