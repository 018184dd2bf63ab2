#include "format/estargz/stargz_toc_index.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/digest.h"
#include "common/status_macros.h"
#include "format/estargz/estargz_footer.h"
#include "format/index_builder.h"
#include "format/index_loader.h"
#include "format/index_memory_cost.h"
#include "format/tar_path.h"
#include "format/tar_quote.h"
#include "nlohmann/json.hpp"

namespace tide::format {
namespace {

using Json = nlohmann::json;

// A parsed JSON document takes several times its text; the index table is counted separately.
constexpr uint64_t kJsonBytesPerMemoryByte = 8;

absl::Status Malformed(const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("stargz TOC: ", why));
}

absl::StatusOr<EntryType> TypeOf(const std::string& type) {
  if (type == "reg") return EntryType::kRegular;
  if (type == "dir") return EntryType::kDirectory;
  if (type == "symlink") return EntryType::kSymlink;
  if (type == "hardlink") return EntryType::kHardlink;
  if (type == "char") return EntryType::kCharDevice;
  if (type == "block") return EntryType::kBlockDevice;
  if (type == "fifo") return EntryType::kFifo;
  return Malformed(absl::StrCat("unknown entry type ", QuoteTarText(type)));
}

// Optional members are left out when zero; a present one must have the right JSON type.
template <typename T>
T Field(const Json& e, const char* key, T fallback) {
  auto it = e.find(key);
  return it == e.end() ? fallback : it->get<T>();
}

// An integer member (0 when left out). Floats are refused: converting one out of range is undefined.
absl::StatusOr<int64_t> Integer(const Json& e, const char* key) {
  auto it = e.find(key);
  if (it == e.end()) return 0;
  if (it->is_number_unsigned()) {
    if (it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      return Malformed(absl::StrCat(key, " out of range"));
    return static_cast<int64_t>(it->get<uint64_t>());
  }
  if (!it->is_number_integer()) return Malformed(absl::StrCat(key, " is not an integer"));
  return it->get<int64_t>();
}

absl::StatusOr<uint64_t> Unsigned(const Json& e, const char* key) {
  TIDE_ASSIGN_OR_RETURN(int64_t v, Integer(e, key));
  if (v < 0) return Malformed(absl::StrCat("negative ", key));
  return static_cast<uint64_t>(v);
}

// `whole_file`: the chunk is the file's only one. containers/storage's writer then leaves chunkDigest
// out, and the file's `digest` is the same hash.
absl::StatusOr<Sha256Bytes> ChunkDigest(const Json& e, std::string_view path, bool whole_file) {
  const char* key = whole_file && !e.contains("chunkDigest") ? "digest" : "chunkDigest";
  std::string text = Field<std::string>(e, key, "");
  absl::StatusOr<Digest> d = Digest::Parse(text);
  if (!d.ok()) return Malformed(absl::StrCat(QuoteTarText(path), ": ", key, ": ", d.status().message()));
  return d->bytes();
}

// One entry's attributes (everything but its chunks).
absl::StatusOr<TarEntry> EntryOf(const Json& e, EntryType type,
                                 absl::flat_hash_map<uint32_t, std::string>& unames,
                                 absl::flat_hash_map<uint32_t, std::string>& gnames) {
  TarEntry t;
  t.type = type;
  t.raw_name = Field<std::string>(e, "name", "");
  if (t.raw_name.empty()) return Malformed("entry without a name");
  t.link_target = Field<std::string>(e, "linkName", "");
  TIDE_ASSIGN_OR_RETURN(int64_t mode, Integer(e, "mode"));
  t.mode = static_cast<uint32_t>(mode & 07777);
  TIDE_ASSIGN_OR_RETURN(uint64_t uid, Unsigned(e, "uid"));
  TIDE_ASSIGN_OR_RETURN(uint64_t gid, Unsigned(e, "gid"));
  TIDE_ASSIGN_OR_RETURN(uint64_t major, Unsigned(e, "devMajor"));
  TIDE_ASSIGN_OR_RETURN(uint64_t minor, Unsigned(e, "devMinor"));
  if (uid > UINT32_MAX || gid > UINT32_MAX || major > UINT32_MAX || minor > UINT32_MAX)
    return Malformed(absl::StrCat(QuoteTarText(t.raw_name), ": id out of range"));
  t.uid = static_cast<uint32_t>(uid);
  t.gid = static_cast<uint32_t>(gid);
  t.dev_major = static_cast<uint32_t>(major);
  t.dev_minor = static_cast<uint32_t>(minor);
  // The writer names an owner only when it differs from the last one it named for that id.
  t.uname = Field<std::string>(e, "userName", "");
  if (t.uname.empty())
    t.uname = unames[t.uid];
  else
    unames[t.uid] = t.uname;
  t.gname = Field<std::string>(e, "groupName", "");
  if (t.gname.empty())
    t.gname = gnames[t.gid];
  else
    gnames[t.gid] = t.gname;
  std::string modtime = Field<std::string>(e, "modtime", "");
  if (!modtime.empty()) {
    absl::Time when;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, modtime, &when, &err))
      return Malformed(absl::StrCat(QuoteTarText(t.raw_name), ": modtime: ", err));
    t.mtime_sec = absl::ToUnixSeconds(when);
    t.mtime_nsec = static_cast<uint32_t>((when - absl::FromUnixSeconds(t.mtime_sec)) / absl::Nanoseconds(1));
  }
  if (auto x = e.find("xattrs"); x != e.end()) {
    for (const auto& [key, value] : x->items()) {
      std::string raw;
      if (!absl::Base64Unescape(value.get<std::string>(), &raw))
        return Malformed(absl::StrCat(QuoteTarText(t.raw_name), ": xattr ", key, " is not base64"));
      t.xattrs.emplace_back(key, std::move(raw));
    }
  }
  if (type == EntryType::kRegular) {
    TIDE_ASSIGN_OR_RETURN(t.size, Unsigned(e, "size"));
  }
  absl::Status paths = ResolveEntryPaths(&t);
  if (!paths.ok()) return Malformed(absl::StrCat(QuoteTarText(t.raw_name), ": ", paths.message()));
  return t;
}

// Turns the TOC's entries into index columns and chunk records.
class TocWalk {
 public:
  TocWalk(uint64_t toc_offset, uint64_t max_entries) : toc_offset_(toc_offset), max_entries_(max_entries) {}

  absl::Status Add(const Json& e) {
    std::string type = Field<std::string>(e, "type", "");
    if (type == "chunk") return AddChunk(e);
    TIDE_RETURN_IF_ERROR(EndFile());
    if (++entries_ > max_entries_) return absl::ResourceExhaustedError("stargz TOC has too many entries");
    TIDE_ASSIGN_OR_RETURN(EntryType t, TypeOf(type));
    TIDE_ASSIGN_OR_RETURN(TarEntry entry, EntryOf(e, t, unames_, gnames_));
    if (entry.path == kEstargzPrefetchLandmark && !landmark_) {
      landmark_ = true;
      startup_chunks_ = static_cast<uint32_t>(frames_.size());
    }
    builder_.AddEntry(entry, tar_offset_);
    if (t != EntryType::kRegular || entry.size == 0) return absl::OkStatus();
    file_ = entry.path;
    file_size_ = entry.size;
    file_done_ = 0;
    return AddChunk(e);
  }

  absl::StatusOr<LayerIndex> Finish(LayerFormat format, uint64_t max_entries) {
    TIDE_RETURN_IF_ERROR(EndFile());
    if (offsets_.empty()) {
      tide::format::v1::LayerIndex pb = builder_.TakeProto({}, 0, {}, 0, {}, {}, 0);
      return IndexLoader::LoadPlaced(pb, max_entries, format, 0);
    }
    // Each chunk's compressed range runs to the next chunk's member, the last one's to the TOC.
    for (size_t i = 0; i < frames_.size(); ++i) {
      uint64_t end = i + 1 < offsets_.size() ? offsets_[i + 1] : toc_offset_;
      if (end - offsets_[i] > UINT32_MAX) return Malformed("a chunk's compressed range exceeds 4 GiB");
      frames_[i].compressed_size = static_cast<uint32_t>(end - offsets_[i]);
    }
    std::vector<uint32_t> startup;
    uint64_t startup_end = 0;
    if (landmark_) {
      for (uint32_t i = 0; i < startup_chunks_; ++i) startup.push_back(i);
      if (startup_chunks_ > 0)
        startup_end =
            (startup_chunks_ < offsets_.size() ? offsets_[startup_chunks_] : toc_offset_) - offsets_[0];
    }
    tide::format::v1::LayerIndex pb =
        builder_.TakeProto(frames_, tar_offset_, {}, max_chunk_, startup, {}, startup_end);
    return IndexLoader::LoadPlaced(pb, max_entries, format, offsets_[0]);
  }

 private:
  absl::Status AddChunk(const Json& e) {
    if (file_.empty()) return Malformed("chunk entry without a regular file before it");
    TIDE_ASSIGN_OR_RETURN(uint64_t offset, Unsigned(e, "offset"));
    TIDE_ASSIGN_OR_RETURN(uint64_t chunk_offset, Unsigned(e, "chunkOffset"));
    TIDE_ASSIGN_OR_RETURN(uint64_t size, Unsigned(e, "chunkSize"));
    TIDE_ASSIGN_OR_RETURN(uint64_t inner, Unsigned(e, "innerOffset"));
    const std::string where = QuoteTarText(file_);
    if (inner != 0) {
      return absl::UnimplementedError(
          absl::StrCat("stargz TOC: ", where, ": chunks sharing a compression member are not supported"));
    }
    if (chunk_offset != file_done_) return Malformed(absl::StrCat(where, ": chunks out of order"));
    if (size == 0) size = file_size_ - file_done_;  // the writer leaves the last chunk's size out
    if (size == 0 || size > file_size_ - file_done_)
      return Malformed(absl::StrCat(where, ": chunk size exceeds the file"));
    if (size > kMaxChunkSize)
      return Malformed(absl::StrCat(where, ": chunk larger than ", kMaxChunkSize, " bytes"));
    if (offset == 0 || offset >= toc_offset_ || (!offsets_.empty() && offset <= offsets_.back()))
      return Malformed(absl::StrCat(where, ": chunk offset ", offset, " out of order or outside the blob"));
    TIDE_ASSIGN_OR_RETURN(Sha256Bytes sha, ChunkDigest(e, file_, chunk_offset == 0 && size == file_size_));
    offsets_.push_back(offset);
    frames_.push_back({static_cast<uint32_t>(size), 0, sha});
    file_done_ += size;
    tar_offset_ += size;
    max_chunk_ = std::max(max_chunk_, size);
    return absl::OkStatus();
  }

  absl::Status EndFile() {
    if (!file_.empty() && file_done_ != file_size_)
      return Malformed(
          absl::StrCat(QuoteTarText(file_), ": chunks cover ", file_done_, " of ", file_size_, " bytes"));
    file_.clear();
    return absl::OkStatus();
  }

  const uint64_t toc_offset_;
  const uint64_t max_entries_;
  IndexBuilder builder_;
  absl::flat_hash_map<uint32_t, std::string> unames_, gnames_;
  std::vector<FrameRecord> frames_;
  std::vector<uint64_t> offsets_;
  uint64_t tar_offset_ = 0;  // of the next file's content in the layer's file data, back to back
  uint64_t max_chunk_ = 0;
  uint64_t entries_ = 0;
  std::string file_;  // the regular file whose chunks are being read
  uint64_t file_size_ = 0;
  uint64_t file_done_ = 0;
  bool landmark_ = false;
  uint32_t startup_chunks_ = 0;
};

}  // namespace

absl::StatusOr<LayerIndex> IndexFromStargzToc(std::string_view toc_json, uint64_t toc_offset,
                                              LayerFormat format, const IndexLimits& limits) {
  if (toc_json.size() > limits.max_memory / kJsonBytesPerMemoryByte) {
    return absl::ResourceExhaustedError(absl::StrCat("stargz TOC of ", toc_json.size(), " bytes exceeds the ",
                                                     limits.max_memory / kJsonBytesPerMemoryByte,
                                                     "-byte limit"));
  }
  Json doc = Json::parse(toc_json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Malformed("not a JSON object");
  // Wrong JSON types in an entry throw; they must not leave this reader.
  try {
    TIDE_ASSIGN_OR_RETURN(int64_t version, Integer(doc, "version"));
    if (version != 1) return Malformed("version is not 1");
    const Json& entries = doc.at("entries");
    if (!entries.is_array()) return Malformed("entries is not an array");
    const uint64_t max_entries = limits.max_memory / kIndexEntryCost;
    TocWalk walk(toc_offset, max_entries);
    for (const Json& e : entries) {
      if (!e.is_object()) return Malformed("an entry is not an object");
      TIDE_RETURN_IF_ERROR(walk.Add(e));
    }
    return walk.Finish(format, max_entries);
  } catch (const Json::exception& e) {
    return Malformed(e.what());
  }
}

}  // namespace tide::format
