#include "test/unit/format/synthetic_estargz.h"

#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <stdexcept>

#include "common/sha256.h"
#include "test/unit/format/synthetic_tar.h"

namespace tide::testing {
namespace {

constexpr char kModtime[] = "2023-11-14T22:13:20Z";  // 1700000000, SyntheticTar's default

std::string Footer(uint64_t toc_offset) {
  std::string f = {'\x1f', '\x8b', '\x08', '\x04', 0, 0, 0, 0, 0, '\xff', 26, 0, 'S', 'G', 22, 0};
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(toc_offset));
  f += hex;
  f += "STARGZ";
  f += std::string{'\x01', 0, 0, '\xff', '\xff'};  // an empty, final stored block
  f += std::string(8, '\0');                       // CRC32 and size of no data
  return f;
}

// A zstd skippable frame holding `data`.
std::string Skippable(const std::string& data) {
  std::string f = {'\x50', '\x2a', '\x4d', '\x18'};
  for (int i = 0; i < 4; ++i) f += static_cast<char>((data.size() >> (8 * i)) & 0xff);
  return f + data;
}

}  // namespace

std::string GzipMember(const std::string& data) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2");
  std::string out(deflateBound(&z, data.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate");
  return out;
}

std::string ZstdFrame(const std::string& data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  if (ZSTD_isError(n)) throw std::runtime_error("zstd");
  out.resize(n);
  return out;
}

void SyntheticEstargz::CloseMember() {
  if (member_.empty()) return;
  blob_ += zstd_ ? ZstdFrame(member_) : GzipMember(member_);
  member_.clear();
}

void SyntheticEstargz::Header(const std::string& name, char type, uint32_t mode, uint64_t size,
                              const std::string& link) {
  TarHeaderSpec spec;
  spec.name = name;
  spec.type = type;
  spec.mode = mode;
  spec.size = size;
  spec.linkname = link;
  member_ += SyntheticTar::Header(spec);
}

SyntheticEstargz& SyntheticEstargz::Dir(const std::string& name, uint32_t mode) {
  Header(name, '5', mode, 0, "");
  entries_.push_back({{"name", name}, {"type", "dir"}, {"modtime", kModtime}, {"mode", mode}});
  return *this;
}

SyntheticEstargz& SyntheticEstargz::Symlink(const std::string& name, const std::string& target) {
  Header(name, '2', 0777, 0, target);
  entries_.push_back(
      {{"name", name}, {"type", "symlink"}, {"linkName", target}, {"modtime", kModtime}, {"mode", 0777}});
  return *this;
}

SyntheticEstargz& SyntheticEstargz::Hardlink(const std::string& name, const std::string& target) {
  Header(name, '1', 0644, 0, target);
  entries_.push_back(
      {{"name", name}, {"type", "hardlink"}, {"linkName", target}, {"modtime", kModtime}, {"mode", 0644}});
  return *this;
}

SyntheticEstargz& SyntheticEstargz::File(const std::string& name, const std::string& content, uint32_t mode) {
  Header(name, '0', mode, content.size(), "");
  nlohmann::json e = {
      {"name", name}, {"type", "reg"}, {"size", content.size()}, {"modtime", kModtime}, {"mode", mode}};
  if (content.empty()) entries_.push_back(e);
  for (size_t done = 0; done < content.size();) {
    CloseMember();
    size_t n = std::min(chunk_size_, content.size() - done);
    if (n == chunk_size_) e["chunkSize"] = n;  // the writer leaves a shorter last chunk's size out
    e["offset"] = blob_.size();
    if (done != 0) e["chunkOffset"] = done;
    e["chunkDigest"] = Digest::Of(content.substr(done, n)).str();
    member_ += content.substr(done, n);
    entries_.push_back(e);
    done += n;
    e = {{"name", name}, {"type", "chunk"}};
  }
  member_ += SyntheticTar::Pad(content.size());
  return *this;
}

SyntheticEstargz& SyntheticEstargz::Landmark() { return File(".prefetch.landmark", "\x0f"); }

std::string SyntheticEstargz::Finish(const std::function<void(nlohmann::json&)>& edit_toc) {
  CloseMember();
  nlohmann::json toc = {{"version", 1}, {"entries", entries_}};
  if (edit_toc) edit_toc(toc);
  toc_json_ = toc.dump(1, '\t');
  toc_digest_ = Digest::Of(toc_json_);
  toc_offset_ = blob_.size();
  if (zstd_) {
    const std::string packed = ZstdFrame(toc_json_);
    blob_ += Skippable(packed);
    std::string footer;
    for (uint64_t v : {toc_offset_ + 8, uint64_t{packed.size()}, uint64_t{toc_json_.size()}, uint64_t{1}}) {
      for (int i = 0; i < 8; ++i) footer += static_cast<char>((v >> (8 * i)) & 0xff);
    }
    blob_ += Skippable(footer + "GnUlInUx");
    return blob_;
  }
  SyntheticTar tar;
  tar.File("stargz.index.json", toc_json_);
  blob_ += GzipMember(tar.Finish());
  blob_ += Footer(toc_offset_);
  return blob_;
}

}  // namespace tide::testing
