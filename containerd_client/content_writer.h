#ifndef TIDE_CONTAINERD_CLIENT_CONTENT_WRITER_H_
#define TIDE_CONTAINERD_CLIENT_CONTENT_WRITER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "containerd_client/containerd_client.h"

namespace tide::containerd_client {

// What a blob is being written as: containerd's ingest ref ("config-sha256:…", "layer-sha256:…"),
// its digest and size, and the labels to set at commit (GC references and the like).
struct BlobWrite {
  std::string ref;
  std::string digest;
  int64_t size = 0;
  Labels labels;
};

enum class WriteOutcome { kWritten, kAlreadyExisted };

// Feeds the blob's bytes, in order, to `write`; returns the first error either side reports.
using BlobProducer = std::function<absl::Status(const std::function<absl::Status(std::string_view)>& write)>;

// Writes a blob into containerd's content store through Content/Write: STAT, WRITE in
// chunks under 16 MiB, COMMIT with expected digest, size and labels, then reads the stream to its
// end (containerd answers COMMIT twice). A blob that already exists ends the stream with
// ALREADY_EXISTS after STAT; then only its labels are set (Content/Update) and the producer never
// runs. Any failure aborts the ingest so no half-written ref stays locked.
absl::StatusOr<WriteOutcome> WriteBlob(ContainerdClient& client, const BlobWrite& blob,
                                       const BlobProducer& produce);

// The same for bytes already in memory (manifests, configs, indexes).
absl::StatusOr<WriteOutcome> WriteBlobBytes(ContainerdClient& client, const BlobWrite& blob,
                                            std::string_view bytes);

}  // namespace tide::containerd_client

#endif  // TIDE_CONTAINERD_CLIENT_CONTENT_WRITER_H_
