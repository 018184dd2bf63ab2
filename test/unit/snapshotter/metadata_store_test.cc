#include "snapshotter/metadata_store.h"

#include <catch2/catch.hpp>

#include "test/support/temp_dir.h"

using tide::snapshotter::Kind;
using tide::snapshotter::MetadataStore;
using tide::snapshotter::SnapshotInfo;

namespace {

SnapshotInfo Make(const std::string& name, const std::string& parent, Kind kind) {
  SnapshotInfo info;
  info.name = name;
  info.parent = parent;
  info.kind = kind;
  info.labels = {{"containerd.io/snapshot/x", "1"}, {"k=v \"quoted\"", "\xe2\x9c\x93"}};
  info.created = info.updated = absl::FromUnixSeconds(1700000000) + absl::Nanoseconds(123);
  return info;
}

}  // namespace

TEST_CASE("store: rows round-trip, ids are never reused, children are counted", "[snapshotter][store]") {
  tide::testing::TempDir dir("tide-store");
  auto store = MetadataStore::Open(dir / "m.db");
  REQUIRE(store.ok());
  auto& s = **store;
  int64_t base_id = 0;
  {
    auto tx = s.Begin();
    REQUIRE(tx.ok());
    auto id = s.Insert(Make("base", "", Kind::kCommitted));
    REQUIRE(id.ok());
    base_id = *id;
    REQUIRE(s.Insert(Make("child", "base", Kind::kActive)).ok());
    REQUIRE(tx->Commit().ok());
  }
  auto got = s.Get("base");
  REQUIRE(got.ok());
  CHECK(got->id == base_id);
  CHECK(got->kind == Kind::kCommitted);
  CHECK(got->labels == Make("base", "", Kind::kCommitted).labels);
  CHECK(got->created == Make("", "", Kind::kView).created);
  CHECK(*s.CountChildren("base") == 1);
  CHECK(*s.CountChildren("child") == 0);
  CHECK(absl::IsNotFound(s.Get("nope").status()));
  // A duplicate name fails and leaves the store as it was.
  {
    auto tx = s.Begin();
    REQUIRE(tx.ok());
    CHECK_FALSE(s.Insert(Make("base", "", Kind::kActive)).ok());
  }
  CHECK(s.List()->size() == 2);
  // Remove and insert again: the new row gets a new id (its directory name must never collide
  // with a removed snapshot's leftover directory).
  {
    auto tx = s.Begin();
    REQUIRE(s.Delete(s.Get("child")->id).ok());
    REQUIRE(s.Delete(base_id).ok());
    REQUIRE(tx->Commit().ok());
  }
  auto tx = s.Begin();
  auto id = s.Insert(Make("again", "", Kind::kActive));
  REQUIRE(tx->Commit().ok());
  CHECK(*id > base_id + 1);
}

TEST_CASE("store: an uncommitted transaction leaves nothing after reopening", "[snapshotter][store]") {
  tide::testing::TempDir dir("tide-store");
  {
    auto store = MetadataStore::Open(dir / "m.db");
    REQUIRE(store.ok());
    {
      auto tx = (*store)->Begin();
      REQUIRE((*store)->Insert(Make("kept", "", Kind::kCommitted)).ok());
      REQUIRE(tx->Commit().ok());
    }
    auto tx = (*store)->Begin();
    REQUIRE((*store)->Insert(Make("lost", "", Kind::kActive)).ok());
    auto kept = (*store)->Get("kept");
    REQUIRE(kept.ok());
    kept->labels = {};
    REQUIRE((*store)->Save(*kept).ok());
    // tx destroyed without Commit: rolled back.
  }
  auto store = MetadataStore::Open(dir / "m.db");
  REQUIRE(store.ok());
  CHECK(absl::IsNotFound((*store)->Get("lost").status()));
  REQUIRE((*store)->Get("kept").ok());
  CHECK((*store)->Get("kept")->labels.size() == 2);
}

TEST_CASE("store: a corrupt database file is an error, not a crash", "[snapshotter][store]") {
  tide::testing::TempDir dir("tide-store");
  tide::testing::WriteFile(dir / "m.db", std::string(8192, 'x'));
  auto store = MetadataStore::Open(dir / "m.db");
  CHECK_FALSE(store.ok());
}
