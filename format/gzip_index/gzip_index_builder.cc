#include "format/gzip_index/gzip_index_builder.h"

#include <zstd.h>

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "format/gzip_index/checkpointing_inflater.h"
#include "format/index_builder.h"
#include "format/tar_reader.h"

namespace tide::format {
namespace {

struct FileSpan {
  uint64_t offset = 0;
  uint64_t size = 0;
};

// Reads the tar stream to its end, adding every entry to the index.
absl::Status IndexTar(ByteSource& tar_stream, IndexBuilder& builder,
                      absl::flat_hash_map<std::string, FileSpan>* files) {
  TarReader reader(tar_stream);
  TarEntry e;
  std::string buffer(256 << 10, '\0');
  while (true) {
    TIDE_ASSIGN_OR_RETURN(bool more, reader.Next(&e));
    if (!more) break;
    builder.AddEntry(e, reader.offset());
    if (e.type == EntryType::kRegular) (*files)[e.path] = {reader.offset(), e.size};
    while (true) {
      TIDE_ASSIGN_OR_RETURN(size_t n, reader.ReadData(buffer.data(), buffer.size()));
      if (n == 0) break;
    }
    TIDE_RETURN_IF_ERROR(reader.ReadPadding().status());
  }
  while (true) {
    TIDE_ASSIGN_OR_RETURN(size_t n, reader.ReadTrailer(buffer.data(), buffer.size()));
    if (n == 0) break;
  }
  // The tar may end before the gzip stream does (padding to a record): inflate the rest too, so the
  // last span and the diff_id cover the whole stream.
  while (true) {
    TIDE_ASSIGN_OR_RETURN(size_t n, tar_stream.Read(buffer.data(), buffer.size()));
    if (n == 0) break;
  }
  return absl::OkStatus();
}

// The chunks holding the startup files, in the order the files are listed.
std::vector<uint32_t> StartupChunks(const std::vector<FrameRecord>& spans,
                                    const std::vector<StartupFile>& startup,
                                    const absl::flat_hash_map<std::string, FileSpan>& files) {
  std::vector<uint64_t> starts;
  starts.reserve(spans.size());
  uint64_t at = 0;
  for (const FrameRecord& s : spans) {
    starts.push_back(at);
    at += s.uncompressed_size;
  }
  std::vector<uint32_t> out;
  absl::flat_hash_set<uint32_t> seen;
  auto add = [&](uint64_t first, uint64_t last) {
    auto chunk = std::upper_bound(starts.begin(), starts.end(), first) - starts.begin() - 1;
    for (; chunk < static_cast<ptrdiff_t>(starts.size()) && starts[chunk] <= last; ++chunk) {
      if (seen.insert(static_cast<uint32_t>(chunk)).second) out.push_back(static_cast<uint32_t>(chunk));
    }
  };
  for (const StartupFile& file : startup) {
    auto it = files.find(file.path);
    if (it == files.end() || it->second.size == 0) continue;
    const FileSpan& f = it->second;
    if (file.ranges.empty()) add(f.offset, f.offset + f.size - 1);
    for (const StartupFile::Range& r : file.ranges) {
      if (r.offset >= f.size || r.length == 0) continue;
      add(f.offset + r.offset, f.offset + std::min(f.size, r.offset + r.length) - 1);
    }
  }
  return out;
}

absl::Status AddCheckpoints(std::vector<RawCheckpoint>& points, int level, tide::format::v1::LayerIndex& pb) {
  std::string* bits = pb.mutable_checkpoint_bits();
  std::string* primes = pb.mutable_checkpoint_primes();
  std::string* windows = pb.mutable_checkpoint_windows();
  std::string packed(ZSTD_compressBound(kInflateWindowSize), '\0');
  for (size_t i = 0; i < points.size(); ++i) {
    RawCheckpoint& p = points[i];
    if (p.member_start) pb.add_gzip_member_starts(static_cast<uint32_t>(i));
    bits->push_back(static_cast<char>(p.bits));
    primes->push_back(static_cast<char>(p.prime));
    if (p.window.empty()) {
      pb.add_checkpoint_window_sizes(0);
      continue;
    }
    size_t n = ZSTD_compress(packed.data(), packed.size(), p.window.data(), p.window.size(), level);
    if (ZSTD_isError(n)) return absl::InternalError(absl::StrCat("zstd: ", ZSTD_getErrorName(n)));
    pb.add_checkpoint_window_sizes(static_cast<uint32_t>(n));
    windows->append(packed.data(), n);
    std::string().swap(p.window);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<GzipIndex> BuildGzipIndex(ByteSource& blob, const Digest& layer_digest,
                                         const GzipIndexOptions& options) {
  CheckpointingInflater inflater(blob, options.spacing);
  IndexBuilder builder;
  absl::flat_hash_map<std::string, FileSpan> files;
  absl::Status read = IndexTar(inflater, builder, &files);
  if (!read.ok()) return absl::Status(read.code(), absl::StrCat(layer_digest.str(), ": ", read.message()));
  const Digest blob_digest = Digest::FromSha256(inflater.blob_sha256());
  if (blob_digest != layer_digest) {
    return absl::DataLossError(
        absl::StrCat("layer blob hashes to ", blob_digest.str(), ", not to its digest ", layer_digest.str()));
  }
  GzipIndex out;
  const Sha256Bytes tar_sha = inflater.tar_sha256();
  out.diff_id = Digest::FromSha256(tar_sha);
  out.blob_size = inflater.blob_size();
  out.tar_size = inflater.tar_size();
  out.chunks = inflater.spans().size();
  out.entries = builder.entry_count();
  const std::vector<uint32_t> startup = StartupChunks(inflater.spans(), options.startup_files, files);
  out.startup_chunks = startup.size();
  tide::format::v1::LayerIndex pb = builder.TakeProto(inflater.spans(), out.tar_size, tar_sha,
                                                      options.spacing.compressed_bytes, startup, {}, 0);
  pb.set_gzip_layer_digest(layer_digest.str());
  pb.set_gzip_blob_size(out.blob_size);
  pb.set_gzip_data_start(inflater.data_start());
  TIDE_RETURN_IF_ERROR(AddCheckpoints(inflater.checkpoints(), options.window_zstd_level, pb));
  TIDE_ASSIGN_OR_RETURN(out.frame, EncodeIndexFrame(pb, options.index_zstd_level));
  return out;
}

}  // namespace tide::format
