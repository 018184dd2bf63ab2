// containers/storage's zstd:chunked writer ends the layer stream at the tar's end-of-archive marker,
// dropping the record padding that the source tar (and so the config's diff_id) had.
#include "layer/tar_stream_hash.h"

#include <catch2/catch.hpp>
#include <string>

namespace tide::layer {
namespace {

// A one-entry archive without any padding after its end-of-archive marker.
std::string ArchiveWithoutPadding() {
  std::string tar(512, '\0');
  tar.replace(0, 5, "hello");
  tar.append(512, 'x');               // the entry's data block
  tar.append(size_t{2} * 512, '\0');  // end-of-archive marker
  return tar;
}

absl::Status Hashed(const std::string& stream, size_t piece, const std::string& diff_id_of) {
  TarStreamHash hash;
  for (size_t at = 0; at < stream.size(); at += piece)
    hash.Update(std::string_view(stream).substr(at, piece));
  return hash.Check(Digest::Of(diff_id_of));
}

TEST_CASE("a decompressed stream stands for its own digest", "[layer][verify]") {
  const std::string tar = ArchiveWithoutPadding();
  CHECK(Hashed(tar, tar.size(), tar).ok());
  CHECK(Hashed(tar, 100, tar).ok());
}

TEST_CASE("a stream that dropped the source's record padding stands for the source's diff_id",
          "[layer][verify]") {
  const std::string tar = ArchiveWithoutPadding();
  // GNU tar pads to 10240-byte records; the pieces' edges fall inside the zero tail and outside it.
  const std::string source = tar + std::string(10240 - tar.size(), '\0');
  for (size_t piece : {size_t{1}, size_t{512}, size_t{700}, tar.size()}) {
    INFO("piece " << piece);
    CHECK(Hashed(tar, piece, source).ok());
  }
  CHECK(Hashed(tar, 512, tar + std::string(kMaxTarRecordPadding, '\0')).ok());
}

TEST_CASE("padding is put back only as whole zero blocks after an end-of-archive marker, within bounds",
          "[layer][verify]") {
  const std::string tar = ArchiveWithoutPadding();
  const auto refused = [](const absl::Status& s) { return absl::IsDataLoss(s); };
  // Too much padding.
  CHECK(refused(Hashed(tar, 512, tar + std::string(kMaxTarRecordPadding + 512, '\0'))));
  // Padding that is not zeros, or not whole blocks.
  CHECK(refused(Hashed(tar, 512, tar + std::string(512, 'p'))));
  CHECK(refused(Hashed(tar, 512, tar + std::string(100, '\0'))));
  // A stream that does not end with an end-of-archive marker: zeros would complete an entry.
  const std::string cut = tar.substr(0, 1024);
  CHECK(refused(Hashed(cut, 512, cut + std::string(1024, '\0'))));
  const std::string one_zero_block = tar.substr(0, 1024 + 512);
  CHECK(refused(Hashed(one_zero_block, 512, one_zero_block + std::string(512, '\0'))));
  // A stream that does not end at a block boundary.
  const std::string odd = tar + std::string(7, '\0');
  CHECK(refused(Hashed(odd, 512, odd + std::string(505, '\0'))));
  // A different archive.
  const absl::Status other = Hashed(tar, 512, "another archive");
  CHECK(refused(other));
  CHECK(std::string(other.message()).find(Digest::Of(tar).str()) != std::string::npos);
}

}  // namespace
}  // namespace tide::layer
