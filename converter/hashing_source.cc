#include "converter/hashing_source.h"

#include <vector>

#include "converter/interrupt.h"

namespace tide::converter {

absl::StatusOr<size_t> HashingSource::Read(char* buffer, size_t size) {
  // Every layer's bytes pass through here, which makes it the place to notice Ctrl-C.
  if (InterruptRequested()) return absl::CancelledError("interrupted");
  absl::StatusOr<size_t> n = inner_.Read(buffer, size);
  if (!n.ok()) return n;
  if (*n == 0 && size > 0) at_end_ = true;
  hash_.Update(buffer, *n);
  bytes_.fetch_add(*n, std::memory_order_relaxed);
  return n;
}

absl::Status HashingSource::Drain() {
  std::vector<char> buf(1 << 16);
  while (!at_end_) {
    absl::StatusOr<size_t> n = Read(buf.data(), buf.size());
    if (!n.ok()) return n.status();
  }
  return absl::OkStatus();
}

Digest HashingSource::Finish() { return Digest::FromSha256(hash_.Finish()); }

}  // namespace tide::converter
