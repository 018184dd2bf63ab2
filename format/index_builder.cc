#include "format/index_builder.h"

#include <zstd.h>

#include "absl/strings/str_cat.h"
#include "format/footer.h"
#include "format/le_bytes.h"

namespace tide::format {

uint32_t IndexBuilder::OwnerId(const std::string& name) {
  auto [it, inserted] = owner_ids_.try_emplace(name, static_cast<uint32_t>(pb_.owner_names_size()));
  if (inserted) pb_.add_owner_names(name);
  return it->second;
}

void IndexBuilder::AddEntry(const TarEntry& e, uint64_t data_offset) {
  pb_.mutable_paths()->append(e.path);
  pb_.add_path_lengths(static_cast<uint32_t>(e.path.size()));
  pb_.add_types(static_cast<uint32_t>(e.type));
  pb_.add_modes(e.mode);
  pb_.add_uids(e.uid);
  pb_.add_gids(e.gid);
  pb_.add_uname_ids(OwnerId(e.uname));
  pb_.add_gname_ids(OwnerId(e.gname));
  bool regular = e.type == EntryType::kRegular;
  pb_.add_sizes(regular ? e.size : 0);
  pb_.add_data_offsets(regular ? data_offset : 0);
  pb_.add_mtime_secs(e.mtime_sec);
  pb_.add_mtime_nsecs(e.mtime_nsec);
  pb_.add_dev_majors(e.dev_major);
  pb_.add_dev_minors(e.dev_minor);
  bool has_link = e.type == EntryType::kSymlink || e.type == EntryType::kHardlink;
  pb_.mutable_link_targets()->append(has_link ? e.link_target : std::string());
  pb_.add_link_lengths(has_link ? static_cast<uint32_t>(e.link_target.size()) : 0);
  pb_.add_xattr_counts(static_cast<uint32_t>(e.xattrs.size()));
  for (const auto& [key, value] : e.xattrs) {
    pb_.add_xattr_key_lengths(static_cast<uint32_t>(key.size()));
    pb_.add_xattr_value_lengths(static_cast<uint32_t>(value.size()));
    pb_.mutable_xattr_data()->append(key).append(value);
  }
}

tide::format::v1::LayerIndex IndexBuilder::TakeProto(const std::vector<FrameRecord>& frames,
                                                     uint64_t tar_size, std::span<const uint8_t> tar_sha256,
                                                     uint64_t chunk_size,
                                                     const std::vector<uint32_t>& startup_chunks,
                                                     const std::vector<uint32_t>& startup_ranks,
                                                     uint64_t startup_end_offset) {
  pb_.set_version(1);
  pb_.set_tar_size(tar_size);
  pb_.set_tar_sha256(std::string(reinterpret_cast<const char*>(tar_sha256.data()), tar_sha256.size()));
  pb_.set_chunk_size(chunk_size);
  pb_.mutable_chunk_compressed_sizes()->Reserve(static_cast<int>(frames.size()));
  pb_.mutable_chunk_uncompressed_sizes()->Reserve(static_cast<int>(frames.size()));
  std::string* shas = pb_.mutable_chunk_sha256s();
  shas->reserve(frames.size() * 32);
  for (const FrameRecord& f : frames) {
    pb_.add_chunk_compressed_sizes(f.compressed_size);
    pb_.add_chunk_uncompressed_sizes(f.uncompressed_size);
    shas->append(reinterpret_cast<const char*>(f.sha256.data()), f.sha256.size());
  }
  for (uint32_t id : startup_chunks) pb_.add_startup_chunks(id);
  for (uint32_t rank : startup_ranks) pb_.add_startup_ranks(rank);
  pb_.set_startup_end_offset(startup_end_offset);
  owner_ids_.clear();
  return std::move(pb_);
}

absl::StatusOr<std::string> IndexBuilder::Finish(const std::vector<FrameRecord>& frames, uint64_t tar_size,
                                                 const Sha256Bytes& tar_sha256, uint64_t chunk_size,
                                                 const std::vector<uint32_t>& startup_chunks,
                                                 const std::vector<uint32_t>& startup_ranks,
                                                 uint64_t startup_end_offset, int zstd_level) {
  return EncodeIndexFrame(
      TakeProto(frames, tar_size, tar_sha256, chunk_size, startup_chunks, startup_ranks, startup_end_offset),
      zstd_level);
}

absl::StatusOr<std::string> EncodeIndexFrame(const tide::format::v1::LayerIndex& pb, int zstd_level) {
  std::string raw;
  if (!pb.SerializeToString(&raw)) return absl::InternalError("cannot serialize the tide index");
  std::string frame(8 + ZSTD_compressBound(raw.size()), '\0');
  size_t n = ZSTD_compress(frame.data() + 8, frame.size() - 8, raw.data(), raw.size(), zstd_level);
  if (ZSTD_isError(n)) return absl::InternalError(absl::StrCat("zstd: ", ZSTD_getErrorName(n)));
  if (n > UINT32_MAX) return absl::ResourceExhaustedError("tide index larger than 4 GiB");
  frame.resize(8 + n);
  std::string header;
  PutLe32(&header, kIndexFrameMagic);
  PutLe32(&header, static_cast<uint32_t>(n));
  frame.replace(0, 8, header);
  return frame;
}

}  // namespace tide::format
