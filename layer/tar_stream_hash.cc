#include "layer/tar_stream_hash.h"

#include <array>

#include "absl/strings/str_cat.h"

namespace tide::layer {
namespace {

constexpr uint64_t kTarBlock = 512;
constexpr uint64_t kEndOfArchive = 2 * kTarBlock;

}  // namespace

void TarStreamHash::Update(std::string_view bytes) {
  sha_.Update(bytes);
  size_ += bytes.size();
  const size_t last_nonzero = bytes.find_last_not_of('\0');
  zero_tail_ =
      last_nonzero == std::string_view::npos ? zero_tail_ + bytes.size() : bytes.size() - last_nonzero - 1;
}

absl::Status TarStreamHash::Check(const Digest& diff_id) const {
  const Digest got = Digest::FromSha256(sha_.Copy().Finish());
  if (got == diff_id) return absl::OkStatus();
  const bool ends_archive = size_ % kTarBlock == 0 && zero_tail_ >= kEndOfArchive;
  if (ends_archive) {
    static constexpr std::array<char, kTarBlock> kZeroBlock{};
    Sha256 padded = sha_.Copy();
    for (uint64_t added = kTarBlock; added <= kMaxTarRecordPadding; added += kTarBlock) {
      padded.Update(kZeroBlock.data(), kZeroBlock.size());
      if (Digest::FromSha256(padded.Copy().Finish()) == diff_id) return absl::OkStatus();
    }
  }
  return absl::DataLossError(absl::StrCat("layer tar hashes to ", got.str(), ", not to the diff_id ",
                                          diff_id.str(),
                                          ends_archive ? ", nor with zero blocks added after its end" : ""));
}

}  // namespace tide::layer
