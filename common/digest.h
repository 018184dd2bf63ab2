#ifndef TIDE_COMMON_DIGEST_H_
#define TIDE_COMMON_DIGEST_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/sha256.h"

namespace tide {

// An OCI content digest. Only sha256 is supported, which is all OCI images use in practice.
class Digest {
 public:
  Digest() = default;
  static absl::StatusOr<Digest> Parse(std::string_view text);
  static Digest FromSha256(const Sha256Bytes& bytes);
  static Digest Of(std::string_view data) { return FromSha256(Sha256Of(data)); }

  const std::string& str() const { return text_; }  // "sha256:<64 hex>"
  std::string_view hex() const { return std::string_view(text_).substr(7); }
  Sha256Bytes bytes() const;
  bool empty() const { return text_.empty(); }

  friend bool operator==(const Digest& a, const Digest& b) { return a.text_ == b.text_; }
  friend bool operator<(const Digest& a, const Digest& b) { return a.text_ < b.text_; }
  template <typename H>
  friend H AbslHashValue(H h, const Digest& d) {
    return H::combine(std::move(h), d.text_);
  }

 private:
  explicit Digest(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

}  // namespace tide

#endif  // TIDE_COMMON_DIGEST_H_
