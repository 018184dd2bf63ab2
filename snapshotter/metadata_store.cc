#include "snapshotter/metadata_store.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tide::snapshotter {
namespace {

constexpr char kColumns[] = "id, name, parent, kind, labels, created_ns, updated_ns, size, inodes, remote";

std::string EncodeLabels(const Labels& labels) { return nlohmann::json(labels).dump(); }

absl::StatusOr<Labels> DecodeLabels(const std::string& text, const std::string& name) {
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::DataLossError(
        absl::StrCat("metadata store: labels of snapshot ", name, " are not a JSON object"));
  }
  Labels labels;
  for (const auto& [key, value] : json.items()) {
    if (!value.is_string()) {
      return absl::DataLossError(
          absl::StrCat("metadata store: label ", key, " of ", name, " is not a string"));
    }
    labels.emplace(key, value.get<std::string>());
  }
  return labels;
}

// Binds, as parameters 1..kColumnsBound, every column but the id, in the order both Insert and Save
// name them: name, parent, kind, labels, created_ns, updated_ns, size, inodes, remote. Save rewrites
// created_ns too: a commit turns an active snapshot into a new committed one, created when committed.
constexpr int kColumnsBound = 9;
SqliteStatement& BindColumns(SqliteStatement& stmt, const SnapshotInfo& info) {
  return stmt.Bind(1, info.name)
      .Bind(2, info.parent)
      .Bind(3, static_cast<int64_t>(info.kind))
      .Bind(4, EncodeLabels(info.labels))
      .Bind(5, absl::ToUnixNanos(info.created))
      .Bind(6, absl::ToUnixNanos(info.updated))
      .Bind(7, info.size)
      .Bind(8, info.inodes)
      .Bind(9, int64_t{info.remote ? 1 : 0});
}

absl::StatusOr<SnapshotInfo> ReadRow(const SqliteStatement& row) {
  SnapshotInfo info;
  info.id = row.ColumnInt(0);
  info.name = row.ColumnText(1);
  info.parent = row.ColumnText(2);
  int64_t kind = row.ColumnInt(3);
  if (kind < 1 || kind > 3) {
    return absl::DataLossError(absl::StrCat("metadata store: snapshot ", info.name, " has bad kind ", kind));
  }
  info.kind = static_cast<Kind>(kind);
  TIDE_ASSIGN_OR_RETURN(info.labels, DecodeLabels(row.ColumnText(4), info.name));
  info.created = absl::FromUnixNanos(row.ColumnInt(5));
  info.updated = absl::FromUnixNanos(row.ColumnInt(6));
  info.size = row.ColumnInt(7);
  info.inodes = row.ColumnInt(8);
  info.remote = row.ColumnInt(9) != 0;
  return info;
}

}  // namespace

MetadataStore::Transaction::Transaction(Transaction&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)) {}

MetadataStore::Transaction::~Transaction() {
  if (db_ != nullptr) db_->Exec("ROLLBACK").IgnoreError();  // nothing more to do if even that fails
}

absl::Status MetadataStore::Transaction::Commit() {
  SqliteDb* db = std::exchange(db_, nullptr);
  absl::Status status = db->Exec("COMMIT");
  if (!status.ok()) db->Exec("ROLLBACK").IgnoreError();
  return status;
}

absl::StatusOr<std::unique_ptr<MetadataStore>> MetadataStore::Open(const std::filesystem::path& path) {
  TIDE_ASSIGN_OR_RETURN(SqliteDb db, SqliteDb::Open(path));
  std::unique_ptr<MetadataStore> store(new MetadataStore(std::move(db)));
  // WAL keeps readers off the writer's back; FULL syncs the WAL on every commit, so a committed
  // snapshot survives power loss.
  TIDE_RETURN_IF_ERROR(store->db_.Exec("PRAGMA journal_mode=WAL"));
  TIDE_RETURN_IF_ERROR(store->db_.Exec("PRAGMA synchronous=FULL"));
  TIDE_RETURN_IF_ERROR(store->Migrate());
  return store;
}

absl::Status MetadataStore::Migrate() {
  return db_.Exec(
      "CREATE TABLE IF NOT EXISTS snapshots ("
      " id INTEGER PRIMARY KEY AUTOINCREMENT,"
      " name TEXT NOT NULL UNIQUE,"
      " parent TEXT NOT NULL,"
      " kind INTEGER NOT NULL,"
      " labels TEXT NOT NULL,"
      " created_ns INTEGER NOT NULL,"
      " updated_ns INTEGER NOT NULL,"
      " size INTEGER NOT NULL DEFAULT 0,"
      " inodes INTEGER NOT NULL DEFAULT 0,"
      " remote INTEGER NOT NULL DEFAULT 0);"
      "CREATE INDEX IF NOT EXISTS snapshots_parent ON snapshots(parent);");
}

absl::StatusOr<MetadataStore::Transaction> MetadataStore::Begin() {
  // IMMEDIATE takes the write lock up front so a transaction never fails half-way on a lock upgrade.
  TIDE_RETURN_IF_ERROR(db_.Exec("BEGIN IMMEDIATE"));
  return Transaction(&db_);
}

absl::StatusOr<SnapshotInfo> MetadataStore::Get(const std::string& name) {
  TIDE_ASSIGN_OR_RETURN(auto stmt,
                        db_.Prepare(absl::StrCat("SELECT ", kColumns, " FROM snapshots WHERE name = ?")));
  stmt.Bind(1, name);
  TIDE_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("snapshot ", name, " does not exist"));
  return ReadRow(stmt);
}

absl::StatusOr<int64_t> MetadataStore::Insert(const SnapshotInfo& info) {
  TIDE_ASSIGN_OR_RETURN(
      auto stmt, db_.Prepare("INSERT INTO snapshots (name, parent, kind, labels, created_ns, updated_ns, "
                             "size, inodes, remote) VALUES (?,?,?,?,?,?,?,?,?)"));
  BindColumns(stmt, info);
  TIDE_RETURN_IF_ERROR(stmt.Run());
  return db_.LastInsertRowId();
}

absl::Status MetadataStore::Save(const SnapshotInfo& info) {
  TIDE_ASSIGN_OR_RETURN(
      auto stmt,
      db_.Prepare("UPDATE snapshots SET name = ?, parent = ?, kind = ?, labels = ?, "
                  "created_ns = ?, updated_ns = ?, size = ?, inodes = ?, remote = ? WHERE id = ?"));
  BindColumns(stmt, info).Bind(kColumnsBound + 1, info.id);
  return stmt.Run();
}

absl::Status MetadataStore::Delete(int64_t id) {
  TIDE_ASSIGN_OR_RETURN(auto stmt, db_.Prepare("DELETE FROM snapshots WHERE id = ?"));
  stmt.Bind(1, id);
  return stmt.Run();
}

absl::StatusOr<int64_t> MetadataStore::CountChildren(const std::string& name) {
  TIDE_ASSIGN_OR_RETURN(auto stmt, db_.Prepare("SELECT COUNT(*) FROM snapshots WHERE parent = ?"));
  stmt.Bind(1, name);
  TIDE_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.ColumnInt(0) : 0;
}

absl::StatusOr<std::vector<SnapshotInfo>> MetadataStore::List() {
  TIDE_ASSIGN_OR_RETURN(auto stmt,
                        db_.Prepare(absl::StrCat("SELECT ", kColumns, " FROM snapshots ORDER BY id")));
  std::vector<SnapshotInfo> result;
  while (true) {
    TIDE_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    TIDE_ASSIGN_OR_RETURN(SnapshotInfo info, ReadRow(stmt));
    result.push_back(std::move(info));
  }
  return result;
}

absl::StatusOr<std::set<int64_t>> MetadataStore::Ids() {
  TIDE_ASSIGN_OR_RETURN(auto stmt, db_.Prepare("SELECT id FROM snapshots"));
  std::set<int64_t> ids;
  while (true) {
    TIDE_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    ids.insert(stmt.ColumnInt(0));
  }
  return ids;
}

}  // namespace tide::snapshotter
