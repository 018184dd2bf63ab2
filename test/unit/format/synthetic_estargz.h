#ifndef TIDE_TEST_UNIT_FORMAT_SYNTHETIC_ESTARGZ_H_
#define TIDE_TEST_UNIT_FORMAT_SYNTHETIC_ESTARGZ_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "common/digest.h"
#include "nlohmann/json.hpp"

namespace tide::testing {

// Writes eStargz blobs in memory as stargz-snapshotter's writer lays them out (a gzip member per
// file chunk, tar headers in the members between, the TOC member and the 51-byte footer), so tests
// can break any part. The real writer (ctr-remote) is exercised by the end-to-end tests.
class SyntheticEstargz {
 public:
  // `zstd`: stargz-snapshotter's zstd:chunked instead: zstd frames, the TOC and the footer in
  // skippable frames.
  explicit SyntheticEstargz(size_t chunk_size = 4 << 20, bool zstd = false)
      : chunk_size_(chunk_size), zstd_(zstd) {}

  SyntheticEstargz& Dir(const std::string& name, uint32_t mode = 0755);
  SyntheticEstargz& File(const std::string& name, const std::string& content, uint32_t mode = 0644);
  SyntheticEstargz& Symlink(const std::string& name, const std::string& target);
  SyntheticEstargz& Hardlink(const std::string& name, const std::string& target);
  // ".prefetch.landmark": the files before it are the startup set.
  SyntheticEstargz& Landmark();

  // The blob. `edit_toc` may change the TOC before it is written (and hashed).
  std::string Finish(const std::function<void(nlohmann::json&)>& edit_toc = {});
  Digest toc_digest() const { return toc_digest_; }
  // Where the chunks end: the TOC member (eStargz) or the TOC's skippable frame (zstd:chunked).
  uint64_t toc_offset() const { return toc_offset_; }
  const std::string& toc_json() const { return toc_json_; }

 private:
  void Header(const std::string& name, char type, uint32_t mode, uint64_t size, const std::string& link);
  void CloseMember();

  size_t chunk_size_;
  bool zstd_;
  std::string blob_;
  std::string member_;  // uncompressed bytes of the open member
  nlohmann::json entries_ = nlohmann::json::array();
  Digest toc_digest_;
  uint64_t toc_offset_ = 0;
  std::string toc_json_;
};

// gzip of `data` as one member.
std::string GzipMember(const std::string& data);
// `data` as one zstd frame.
std::string ZstdFrame(const std::string& data);

}  // namespace tide::testing

#endif  // TIDE_TEST_UNIT_FORMAT_SYNTHETIC_ESTARGZ_H_
