#ifndef TIDE_SNAPSHOTTER_METADATA_STORE_H_
#define TIDE_SNAPSHOTTER_METADATA_STORE_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "snapshotter/snapshot_info.h"
#include "snapshotter/sqlite_db.h"

namespace tide::snapshotter {

// Snapshot metadata in SQLite (WAL, synchronous=FULL): a change is durable once its transaction
// commits, and a crash at any point leaves either the old or the new state. Not thread-safe; the
// owner serialises calls.
class MetadataStore {
 public:
  // Rolls back on destruction unless committed.
  class Transaction {
   public:
    Transaction(Transaction&& other) noexcept;
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    Transaction& operator=(Transaction&&) = delete;
    ~Transaction();
    absl::Status Commit();

   private:
    friend class MetadataStore;
    explicit Transaction(SqliteDb* db) : db_(db) {}
    SqliteDb* db_;
  };

  static absl::StatusOr<std::unique_ptr<MetadataStore>> Open(const std::filesystem::path& path);

  absl::StatusOr<Transaction> Begin();
  // NotFound names the snapshot when there is none.
  absl::StatusOr<SnapshotInfo> Get(const std::string& name);
  // Stores a new snapshot and returns its id (never reused, even after removal).
  absl::StatusOr<int64_t> Insert(const SnapshotInfo& info);
  // Rewrites every mutable column of the row with info.id.
  absl::Status Save(const SnapshotInfo& info);
  absl::Status Delete(int64_t id);
  absl::StatusOr<int64_t> CountChildren(const std::string& name);
  absl::StatusOr<std::vector<SnapshotInfo>> List();
  absl::StatusOr<std::set<int64_t>> Ids();

 private:
  explicit MetadataStore(SqliteDb db) : db_(std::move(db)) {}
  absl::Status Migrate();
  SqliteDb db_;
};

}  // namespace tide::snapshotter

#endif  // TIDE_SNAPSHOTTER_METADATA_STORE_H_
