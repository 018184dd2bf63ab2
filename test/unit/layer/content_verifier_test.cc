// The whole-layer check of an eStargz or zstd:chunked layer downloads the blob a second time. That is
// background work: it must wait while a container read is waiting, and give way mid-transfer when
// one arrives, without ever skipping or repeating bytes in the hash.
#include "layer/content_verifier.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "common/sha256.h"
#include "format/stream_decoder.h"
#include "test/unit/format/synthetic_estargz.h"

namespace tide::layer {
namespace {

// Streams its bytes to ReadInto in 64 KiB steps, reporting each; `on_step` runs before each report.
class SteppedBlob : public fetch::BlobSource {
 public:
  explicit SteppedBlob(std::string bytes) : bytes_(std::move(bytes)) {}
  absl::StatusOr<std::string> ReadAt(uint64_t offset, uint64_t length) override {
    if (offset > bytes_.size() || length > bytes_.size() - offset)
      return absl::OutOfRangeError("past the blob");
    return bytes_.substr(offset, length);
  }
  absl::Status ReadInto(uint64_t offset, std::span<char> out, const Progress& progress, Deadline) override {
    ++reads;
    if (offset > bytes_.size() || out.size() > bytes_.size() - offset)
      return absl::OutOfRangeError("past the blob");
    constexpr size_t kStep = 64 << 10;
    for (size_t done = 0; done < out.size();) {
      const size_t n = std::min(kStep, out.size() - done);
      std::copy_n(bytes_.data() + offset + done, n, out.data() + done);
      done += n;
      if (on_step) on_step();
      if (absl::Status st = progress(done); !st.ok()) return st;
    }
    return absl::OkStatus();
  }
  std::string Describe() const override { return "stepped blob"; }

  std::atomic<int> reads{0};
  std::function<void()> on_step;

 private:
  std::string bytes_;
};

std::string Incompressible(size_t n) {
  std::string s(n, '\0');
  uint64_t x = 88172645463325252ull;
  for (char& c : s) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>(x);
  }
  return s;
}

struct Layer {
  std::string blob;
  Digest diff_id;
};

// An eStargz layer of a few MiB (several 4 MiB pieces) and the sha256 of the tar it decompresses to.
Layer MakeLayer() {
  testing::SyntheticEstargz writer(1 << 20);
  writer.File("a.bin", Incompressible(5 << 20)).File("b.txt", "hello").File("c.bin", Incompressible(4 << 20));
  Layer layer{.blob = writer.Finish(), .diff_id = Digest()};
  std::unique_ptr<format::StreamDecoder> decoder =
      format::NewBlobStreamDecoder(format::LayerFormat::kEstargz);
  Sha256 tar;
  REQUIRE(decoder->Feed(layer.blob, [&](std::string_view out) { tar.Update(out.data(), out.size()); }).ok());
  REQUIRE(decoder->Finish().ok());
  layer.diff_id = Digest::FromSha256(tar.Finish());
  return layer;
}

TEST_CASE("a streamed layer's check waits while a container read is waiting", "[layer][verify][priority]") {
  const Layer layer = MakeLayer();
  SteppedBlob blob(layer.blob);
  fetch::FetchLimiter limiter(fetch::FetchLimits{});
  std::atomic<bool> stop{false};
  std::optional<absl::Status> result;
  {
    auto reading = std::make_unique<fetch::FetchLimiter::OnDemandScope>(limiter);
    std::thread verify([&] {
      result = VerifyStreamedLayer(blob, layer.blob.size(), format::LayerFormat::kEstargz, layer.diff_id,
                                   &limiter, stop);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(blob.reads == 0);
    reading.reset();
    verify.join();
  }
  REQUIRE(result.has_value());
  CHECK(result->ok());
}

TEST_CASE("a streamed layer's check gives way mid-transfer and still hashes every byte once",
          "[layer][verify][priority]") {
  const Layer layer = MakeLayer();
  SteppedBlob blob(layer.blob);
  fetch::FetchLimiter limiter(fetch::FetchLimits{});
  // A container read arrives during the first transfer, once, and is answered 100 ms later.
  std::unique_ptr<fetch::FetchLimiter::OnDemandScope> reading;
  std::thread answered;
  blob.on_step = [&] {
    if (answered.joinable()) return;
    reading = std::make_unique<fetch::FetchLimiter::OnDemandScope>(limiter);
    answered = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      reading.reset();
    });
  };
  std::atomic<bool> stop{false};
  absl::Status verified = VerifyStreamedLayer(blob, layer.blob.size(), format::LayerFormat::kEstargz,
                                              layer.diff_id, &limiter, stop);
  answered.join();
  CHECK(verified.ok());
  const int pieces = static_cast<int>((layer.blob.size() + (4 << 20) - 1) / (4 << 20));
  CHECK(blob.reads == pieces + 1);  // the piece that gave way was fetched again
  // Without a limiter nothing waits (tidectl's own checks).
  SteppedBlob plain(layer.blob);
  CHECK(VerifyStreamedLayer(plain, layer.blob.size(), format::LayerFormat::kEstargz, layer.diff_id, nullptr,
                            stop)
            .ok());
  CHECK(absl::IsDataLoss(VerifyStreamedLayer(plain, layer.blob.size(), format::LayerFormat::kEstargz,
                                             Digest::Of("another tar"), &limiter, stop)));
}

TEST_CASE("a streamed layer's check waiting for its turn ends when the layer is unmounted",
          "[layer][verify]") {
  const Layer layer = MakeLayer();
  SteppedBlob blob(layer.blob);
  fetch::FetchLimiter limiter(fetch::FetchLimits{});
  fetch::FetchLimiter::OnDemandScope reading(limiter);  // never ends
  std::atomic<bool> stop{false};
  std::optional<absl::Status> result;
  std::thread verify([&] {
    result = VerifyStreamedLayer(blob, layer.blob.size(), format::LayerFormat::kEstargz, layer.diff_id,
                                 &limiter, stop);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  verify.join();
  REQUIRE(result.has_value());
  CHECK(absl::IsCancelled(*result));
  CHECK(blob.reads == 0);
}

}  // namespace
}  // namespace tide::layer
