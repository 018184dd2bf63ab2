#include "oci/image_config.h"

#include <catch2/catch.hpp>

#include "common/digest.h"
#include "nlohmann/json.hpp"

using tide::Digest;
using tide::oci::ImageConfig;

TEST_CASE("ImageConfig updates diff_ids and keeps unknown fields", "[oci][config]") {
  auto c = ImageConfig::Parse(R"({"architecture": "amd64", "os": "linux",
    "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"]}, "x-vendor": {"k": [1, 2]},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"]},
    "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "ADD rootfs"},
                {"created_by": "ENV X=1", "empty_layer": true}]})");
  REQUIRE(c.ok());
  auto ids = c->DiffIds();
  REQUIRE(ids.ok());
  REQUIRE(ids->size() == 1);
  Digest fresh = Digest::Of("new layer");
  c->SetDiffIds({fresh});
  auto history = c->History();
  REQUIRE(history.ok());
  REQUIRE(history->size() == 2);
  CHECK(history->at(1).empty_layer);
  CHECK(history->at(0).created_by == "ADD rootfs");

  auto again = ImageConfig::Parse(c->Serialize());
  REQUIRE(again.ok());
  REQUIRE(again->DiffIds().ok());
  CHECK(*again->DiffIds() == std::vector<Digest>{fresh});
  CHECK(*again->History() == *history);
  auto j = nlohmann::json::parse(again->Serialize());
  CHECK(j["x-vendor"]["k"][1] == 2);
  CHECK(j["config"]["Cmd"][0] == "sh");
  auto p = again->GetPlatform();
  REQUIRE(p.ok());
  CHECK(p->ToString() == "linux/amd64");
  again->SetPlatform({"linux", "arm64", "v8", "", {}});
  CHECK(again->GetPlatform()->variant == "v8");
}

TEST_CASE("ImageConfig rejects broken diff_ids and history", "[oci][config]") {
  auto bad = ImageConfig::Parse(R"({"rootfs": {"type": "layers", "diff_ids": ["sha256:xyz"]}})", "config C");
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find("config C: rootfs.diff_ids[0]") != std::string::npos);
  CHECK_FALSE(ImageConfig::Parse(R"({"history": {}})").ok());
  CHECK_FALSE(ImageConfig::Parse(R"({"rootfs": 3})").ok());
  CHECK_FALSE(ImageConfig::Parse("nope").ok());
}
