#include "snapshotter/filter.h"

#include <catch2/catch.hpp>

namespace {

using tide::snapshotter::Filter;

// A tiny object with a name, a kind and labels, looked up like containerd's snapshot adaptor.
struct Object {
  std::string name;
  std::string parent;
  std::map<std::string, std::string> labels;
};

std::optional<std::string> Lookup(const Object& o, const std::vector<std::string>& path) {
  if (path.empty()) return std::nullopt;
  if (path[0] == "name") return o.name;
  if (path[0] == "parent") return o.parent;
  if (path[0] == "labels" && path.size() > 1) {
    std::string key = path[1];
    for (size_t i = 2; i < path.size(); ++i) key += "." + path[i];
    auto it = o.labels.find(key);
    if (it != o.labels.end()) return it->second;
  }
  return std::nullopt;
}

bool Matches(const std::vector<std::string>& filters, const Object& o) {
  auto f = Filter::Parse(filters);
  REQUIRE(f.ok());
  return f->Match([&](const std::vector<std::string>& p) { return Lookup(o, p); });
}

}  // namespace

TEST_CASE("filter: containerd's remote-snapshot lookup filter", "[snapshotter][filter]") {
  Object layer{"tide-remote/x", "", {{"containerd.io/snapshot.ref", "sha256:abc"}}};
  std::string f = R"(labels."containerd.io/snapshot.ref"==sha256:abc,parent=="")";
  CHECK(Matches({f}, layer));
  layer.parent = "default/3/sha256:def";
  CHECK_FALSE(Matches({f}, layer));
  CHECK(
      Matches({R"(labels."containerd.io/snapshot.ref"==sha256:abc,parent=="default/3/sha256:def")"}, layer));
  CHECK_FALSE(Matches({R"(labels."containerd.io/snapshot.ref"==sha256:abd)"}, layer));
}

TEST_CASE("filter: operators, presence, regex, AND within and OR across strings", "[snapshotter][filter]") {
  Object o{"default/1/base", "", {{"a", "1"}, {"b.c", "x y"}}};
  CHECK(Matches({}, o));
  CHECK(Matches({""}, o));
  CHECK(Matches({"labels.a"}, o));
  CHECK_FALSE(Matches({"labels.z"}, o));
  CHECK(Matches({"labels.b.c==\"x y\""}, o));  // dotted paths join into one label key
  CHECK(Matches({"labels.a!=2"}, o));
  CHECK_FALSE(Matches({"labels.a!=1"}, o));
  CHECK(Matches({"labels.z!=1"}, o));  // absent compares as empty, as in containerd
  CHECK(Matches({"name~=^default/[0-9]+/ba"}, o));
  CHECK(Matches({"name~=/ba.e$/"}, o));
  CHECK_FALSE(Matches({"name~=^base"}, o));
  CHECK(Matches({"labels.a==1,name==default/1/base"}, o));
  CHECK_FALSE(Matches({"labels.a==1,name==other"}, o));
  CHECK(Matches({"name==other", "labels.a==1"}, o));
  CHECK_FALSE(Matches({"name==other", "labels.a==2"}, o));
  CHECK(Matches({" labels.a == 1 , name == default/1/base "}, o));
  CHECK(Matches({R"(labels."b.c"=="x y")"}, o));
}

TEST_CASE("filter: bad filters are InvalidArgument naming the filter", "[snapshotter][filter]") {
  for (std::string bad : {"name!x", "name==", "labels.\"unterminated", "name==a,", ",name==a", "name=x",
                          "name~=(", "labels.\"a\\q\"==b", "==x"}) {
    INFO(bad);
    auto f = Filter::Parse({bad});
    REQUIRE_FALSE(f.ok());
    CHECK(absl::IsInvalidArgument(f.status()));
    CHECK(std::string(f.status().message()).find(bad) != std::string::npos);
  }
}
