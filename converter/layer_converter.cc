#include "converter/layer_converter.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "converter/decompressor.h"
#include "converter/hashing_source.h"
#include "converter/read_ahead_source.h"
#include "format/annotations.h"
#include "oci/media_types.h"

namespace tide::converter {

namespace {

// Prefixes the layer name unless the message already starts with it (decompression errors do).
absl::Status Annotate(const absl::Status& s, const std::string& name) {
  if (Sv(s.message()).starts_with(name)) return s;
  return absl::Status(s.code(), absl::StrCat(name, ": ", s.message()));
}

}  // namespace

absl::StatusOr<ConvertedLayer> ConvertLayer(ImageSource& source, ImageDestination& dest, const LayerJob& job,
                                            const format::LayerWriterOptions& writer_options,
                                            Progress* progress) {
  const oci::Descriptor& src = job.source;
  if (!oci::IsLayer(src.media_type)) {
    return absl::InvalidArgumentError(
        absl::StrCat(job.name, ": unsupported layer media type \"", src.media_type, "\""));
  }
  auto stored = source.OpenLayer(src);
  if (!stored.ok()) return Annotate(stored.status(), job.name);
  HashingSource compressed(**stored);
  int task = -1;
  if (progress != nullptr) {
    task = progress->AddTask(job.name, static_cast<uint64_t>(src.size),
                             [&compressed] { return compressed.bytes(); });
  }
  auto finish_task = [&](const std::string& summary) {
    if (progress != nullptr) progress->Finish(task, summary);
  };
  oci::Compression compression = oci::LayerCompression(src.media_type);
  std::unique_ptr<format::ByteSource> decompressed = NewDecompressor(compression, compressed, job.name);
  // The writer reads the tar to its very end (trailing padding included) and hashes it, so its
  // diff_id is the source tar's digest: no second hash pass here. Reading and decompressing run on
  // their own thread, ahead of the writer.
  std::optional<ReadAheadSource> read_ahead;
  read_ahead.emplace(*decompressed);
  // A startup set reorders the tar, so the writer's diff_id is no longer the source's: hash the
  // source stream on the way in to check it against the config.
  std::optional<HashingSource> source_hash;
  if (!writer_options.startup.empty()) source_hash.emplace(*read_ahead);
  format::ByteSource& tar = source_hash ? static_cast<format::ByteSource&>(*source_hash) : *read_ahead;

  auto fail = [&](const absl::Status& s) {
    finish_task(absl::StrCat("failed: ", s.message()));
    return s;
  };
  auto out = dest.NewLayer();
  if (!out.ok()) return fail(Annotate(out.status(), job.name));
  auto written = format::WriteLayer(tar, **out, writer_options);
  if (!written.ok()) return fail(Annotate(written.status(), job.name));
  // Anything the writer left unread would be missing from the tide layer.
  char extra = 0;
  auto leftover = tar.Read(&extra, 1);
  if (!leftover.ok()) return fail(Annotate(leftover.status(), job.name));
  if (*leftover != 0) {
    return fail(
        absl::InternalError(absl::StrCat(job.name, ": the layer writer stopped before the end of the tar")));
  }
  read_ahead.reset();  // the stream is at its end: hand `compressed` back to this thread
  // Bytes after the compressed stream's end still count toward the blob digest.
  if (absl::Status s = compressed.Drain(); !s.ok()) return fail(Annotate(s, job.name));

  Digest stored_digest = compressed.Finish();
  if (stored_digest != src.digest) {
    return fail(absl::DataLossError(absl::StrCat(job.name, ": blob digest mismatch: manifest says ",
                                                 src.digest.str(), ", content is ", stored_digest.str())));
  }
  if (static_cast<int64_t>(compressed.bytes()) != src.size) {
    return fail(absl::DataLossError(absl::StrCat(job.name, ": blob size mismatch: manifest says ", src.size,
                                                 ", content has ", compressed.bytes(), " bytes")));
  }
  const Digest source_diff_id = source_hash ? source_hash->Finish() : written->diff_id;
  if (job.expected_diff_id && source_diff_id != *job.expected_diff_id) {
    return fail(
        absl::DataLossError(absl::StrCat(job.name, ": uncompressed content is ", source_diff_id.str(),
                                         " but the config's diff_id is ", job.expected_diff_id->str())));
  }
  if (absl::Status s = (*out)->Commit(written->blob_digest); !s.ok()) return fail(Annotate(s, job.name));

  ConvertedLayer result;
  result.descriptor.media_type = std::string(oci::kOciLayerZstd);
  result.descriptor.digest = written->blob_digest;
  result.descriptor.size = static_cast<int64_t>(written->blob_size);
  result.descriptor.annotations = written->annotations;
  result.descriptor.annotations[std::string(format::kAnnotationLayerDigest)] = written->blob_digest.str();
  for (auto& [k, v] : dest.LayerAnnotations()) result.descriptor.annotations[k] = v;
  result.diff_id = written->diff_id;
  result.stats = *written;
  finish_task(absl::StrFormat(
      "done: %d entries, %d chunks, %.1f MB tar -> %.1f MB (%s -> %s)", written->entry_count,
      written->chunk_count, static_cast<double>(written->tar_size) / 1e6,
      static_cast<double>(written->blob_size) / 1e6, oci::CompressionName(compression), "tide zstd"));
  return result;
}

}  // namespace tide::converter
