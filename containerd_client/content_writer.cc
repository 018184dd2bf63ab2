#include "containerd_client/content_writer.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"

namespace tide::containerd_client {
namespace {

namespace content = containerd::services::content::v1;

// Well under containerd's 16 MiB message limit, and what containerd's own client sends.
constexpr size_t kChunkBytes = 1 << 20;
// How long to wait for another writer of the same ref (a concurrent pull of the same image).
constexpr std::chrono::minutes kLockedWait{10};

using WriteStream = grpc::ClientReaderWriter<content::WriteContentRequest, content::WriteContentResponse>;

class IngestSession {
 public:
  IngestSession(ContainerdClient& client, const BlobWrite& blob)
      : client_(client), blob_(blob), context_(client.NewContext(std::chrono::seconds(3600))) {
    stream_ = client_.content().Write(context_.get());
  }

  // True when the blob is new and bytes must follow; false when containerd already has it.
  absl::StatusOr<bool> Stat() {
    content::WriteContentRequest request;
    request.set_action(content::STAT);
    request.set_ref(blob_.ref);
    request.set_total(blob_.size);
    request.set_expected(blob_.digest);
    if (!stream_->Write(request)) return Finish("stat");
    content::WriteContentResponse response;
    if (!stream_->Read(&response)) {
      absl::Status status = Finish("stat");
      if (absl::IsAlreadyExists(status)) return false;
      return status;
    }
    return true;
  }

  absl::Status Write(std::string_view data) {
    while (!data.empty()) {
      size_t n = std::min(data.size(), kChunkBytes);
      content::WriteContentRequest request;
      request.set_action(content::WRITE);
      request.set_offset(offset_);
      request.set_data(data.data(), n);
      content::WriteContentResponse response;
      if (!stream_->Write(request) || !stream_->Read(&response)) return Finish("write");
      offset_ += static_cast<int64_t>(n);
      if (response.offset() != offset_) {
        return absl::DataLossError(absl::StrCat("content write ", blob_.ref, ": containerd is at offset ",
                                                response.offset(), ", expected ", offset_));
      }
      data.remove_prefix(n);
    }
    return absl::OkStatus();
  }

  absl::Status Commit() {
    if (offset_ != blob_.size) {
      return absl::DataLossError(
          absl::StrCat("content write ", blob_.ref, ": got ", offset_, " bytes, expected ", blob_.size));
    }
    content::WriteContentRequest request;
    request.set_action(content::COMMIT);
    request.set_total(blob_.size);
    request.set_offset(offset_);
    request.set_expected(blob_.digest);
    request.mutable_labels()->insert(blob_.labels.begin(), blob_.labels.end());
    if (!stream_->Write(request)) return Finish("commit");
    stream_->WritesDone();
    content::WriteContentResponse response;
    bool committed = false;
    // containerd sends the COMMIT response twice before it ends the stream.
    while (stream_->Read(&response)) {
      if (response.action() != content::COMMIT) continue;
      if (response.digest() != blob_.digest) {
        Finish("commit").IgnoreError();
        return absl::DataLossError(absl::StrCat("content write ", blob_.ref, ": containerd committed ",
                                                response.digest(), ", expected ", blob_.digest));
      }
      committed = true;
    }
    absl::Status status = Finish("commit");
    if (status.ok() && !committed) {
      return absl::InternalError(absl::StrCat("content write ", blob_.ref, ": no commit response"));
    }
    return status;
  }

  // Ends the stream (if not already) and reports its final status once.
  absl::Status Finish(std::string_view step) {
    if (!finished_) {
      finished_ = true;
      final_ = FromGrpc(stream_->Finish(), absl::StrCat("content write ", blob_.ref, " (", Sv(step), ")"));
    }
    return final_;
  }

  void Abandon() {
    if (!finished_) {
      context_->TryCancel();
      Finish("cancel").IgnoreError();
    }
    content::AbortRequest request;
    request.set_ref(blob_.ref);
    google::protobuf::Empty response;
    auto context = client_.NewContext(std::chrono::seconds(30));
    // NotFound just means nothing was ingested yet.
    client_.content().Abort(context.get(), request, &response);
  }

 private:
  ContainerdClient& client_;
  const BlobWrite& blob_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<WriteStream> stream_;
  int64_t offset_ = 0;
  bool finished_ = false;
  absl::Status final_;
};

absl::Status SetLabels(ContainerdClient& client, const BlobWrite& blob) {
  if (blob.labels.empty()) return absl::OkStatus();
  return client.UpdateContentLabels(blob.digest, blob.labels);
}

absl::StatusOr<WriteOutcome> WriteOnce(ContainerdClient& client, const BlobWrite& blob,
                                       const BlobProducer& produce) {
  IngestSession session(client, blob);
  absl::StatusOr<bool> fresh = session.Stat();
  if (!fresh.ok()) return fresh.status();
  if (!*fresh) {
    TIDE_RETURN_IF_ERROR(SetLabels(client, blob));
    return WriteOutcome::kAlreadyExisted;
  }
  absl::Status status = produce([&](std::string_view data) { return session.Write(data); });
  if (status.ok()) status = session.Commit();
  if (absl::IsAlreadyExists(status)) {
    // Someone else committed the same blob while we wrote it.
    TIDE_RETURN_IF_ERROR(SetLabels(client, blob));
    return WriteOutcome::kAlreadyExisted;
  }
  if (!status.ok()) {
    session.Abandon();
    return status;
  }
  return WriteOutcome::kWritten;
}

// containerd's answer when another writer holds the ingest ref.
bool IsLocked(const absl::Status& status) {
  return absl::IsUnavailable(status) && absl::StrContains(status.message(), "locked");
}

}  // namespace

absl::StatusOr<WriteOutcome> WriteBlob(ContainerdClient& client, const BlobWrite& blob,
                                       const BlobProducer& produce) {
  if (blob.ref.empty() || blob.digest.empty() || blob.size < 0) {
    return absl::InvalidArgumentError(absl::StrCat("content write: bad blob description (ref '", blob.ref,
                                                   "', digest '", blob.digest, "', size ", blob.size, ")"));
  }
  // A concurrent pull of the same image holds the ref: wait for it as containerd's client does; the
  // retry then usually finds the blob committed.
  auto deadline = std::chrono::steady_clock::now() + kLockedWait;
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<WriteOutcome> outcome = WriteOnce(client, blob, produce);
    if (!IsLocked(outcome.status()) || std::chrono::steady_clock::now() > deadline) return outcome;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(100 * attempt, 1000)));
  }
}

absl::StatusOr<WriteOutcome> WriteBlobBytes(ContainerdClient& client, const BlobWrite& blob,
                                            std::string_view bytes) {
  return WriteBlob(client, blob, [bytes](const auto& write) { return write(bytes); });
}

}  // namespace tide::containerd_client
