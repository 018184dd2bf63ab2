#ifndef TIDE_COMMON_SHA256_H_
#define TIDE_COMMON_SHA256_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace tide {

using Sha256Bytes = std::array<uint8_t, 32>;

// Incremental SHA-256 (OpenSSL EVP underneath).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void Update(std::string_view data);
  void Update(const void* data, size_t size);
  Sha256Bytes Finish();
  // A hash of the same bytes so far that goes on independently: for trying several endings.
  Sha256 Copy() const;

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

Sha256Bytes Sha256Of(std::string_view data);
std::string HexEncode(const uint8_t* data, size_t size);
inline std::string HexEncode(const Sha256Bytes& b) { return HexEncode(b.data(), b.size()); }
// 64 lowercase hex digits -> bytes; false (out untouched in part) for anything else.
bool ParseSha256Hex(std::string_view hex, Sha256Bytes* out);

}  // namespace tide

#endif  // TIDE_COMMON_SHA256_H_
