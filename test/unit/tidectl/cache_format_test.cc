#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "tidectl/cache_command.h"
#include "tidectl/warm_command.h"

namespace tide::tidectl {
namespace {

namespace pb = tide::cache::v1;

TEST_CASE("cache ls shows totals, pinned images with their pinned part, and mounted layers") {
  pb::ListResponse list;
  list.set_used_bytes(3 << 20);
  list.set_max_bytes(uint64_t{20} << 30);
  list.set_pinned_bytes(2 << 20);
  list.set_chunks(7);
  pb::CachedImage* pinned = list.add_images();
  pinned->set_reference("127.0.0.1:5000/app:v1");
  pinned->set_pinned(true);
  pinned->set_mode("startup");
  pb::CachedLayer* layer = pinned->add_layers();
  layer->set_digest("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  layer->set_bytes(10 << 20);
  layer->set_bytes_cached(2 << 20);
  layer->set_pinned_bytes(2 << 20);
  layer->set_pinned_bytes_cached(1 << 20);
  pb::CachedImage* mounted = list.add_images();
  mounted->set_reference("127.0.0.1:5000/other");
  mounted->set_mode("mounted");
  mounted->add_layers()->set_digest("sha256:fedcba9876543210");

  const std::string text = FormatCacheList(list);
  INFO(text);
  CHECK(absl::StartsWith(text, "cache: 3.0 MiB in 7 chunks of 20.0 GiB, 2.0 MiB pinned\n"));
  CHECK(absl::StrContains(text, "127.0.0.1:5000/app:v1  pinned (startup)  2.0 MiB of 10.0 MiB cached\n"));
  CHECK(absl::StrContains(text, "sha256:0123456789ab"));
  CHECK(absl::StrContains(text, "pinned 1.0 MiB of 2.0 MiB"));
  CHECK(absl::StrContains(text, "127.0.0.1:5000/other  not pinned (mounted)"));
  // No bound configured: no "of" after the chunk count.
  CHECK(absl::StartsWith(FormatCacheList(pb::ListResponse()), "cache: 0 B in 0 chunks, 0 B pinned\n"));
}

TEST_CASE("a warm's plan names each layer's share or why it is skipped") {
  pb::WarmProgress plan;
  pb::LayerPlan* tide = plan.add_layers();
  tide->set_digest("sha256:aaaaaaaaaaaaaaaaaaaaaaaa");
  tide->set_path("tide");
  tide->set_chunks(34);
  tide->set_bytes(12 << 20);
  pb::LayerPlan* gzip = plan.add_layers();
  gzip->set_digest("sha256:bbbbbbbbbbbbbbbbbbbbbbbb");
  gzip->set_path("not a tide layer");
  CHECK(FormatWarmPlan(plan) ==
        "  layer sha256:aaaaaaaaaaaa  12.0 MiB in 34 chunks\n"
        "  layer sha256:bbbbbbbbbbbb  skipped: not a tide layer\n");
}

}  // namespace
}  // namespace tide::tidectl
