#include "test/integration/converter/layout_builder.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "oci/image_config.h"
#include "oci/index.h"
#include "oci/manifest.h"
#include "oci/media_types.h"
#include "oci/oci_layout.h"

namespace tide::testing {

namespace {

// width - 1 octal digits, then NUL, as ustar writers do.
void Octal(char* field, size_t width, unsigned long long value) {
  for (size_t i = width - 1; i-- > 0;) {
    field[i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
  field[width - 1] = '\0';
}

void Put(char* field, size_t width, const std::string& text) {
  std::memcpy(field, text.data(), std::min(width, text.size()));
}

template <typename T>
T Check(absl::StatusOr<T> v) {
  if (!v.ok()) throw std::runtime_error(std::string(v.status().message()));
  return *std::move(v);
}

}  // namespace

std::string MakeTar(const std::vector<TarSpec>& entries, bool terminate) {
  std::string out;
  for (const TarSpec& e : entries) {
    char h[512] = {};
    Put(h, 100, e.name);
    Octal(h + 100, 8, e.mode);
    Octal(h + 108, 8, 0);
    Octal(h + 116, 8, 0);
    Octal(h + 124, 12, e.type == '0' ? e.content.size() : 0);
    Octal(h + 136, 12, 1700000000);
    std::memset(h + 148, ' ', 8);
    h[156] = e.type;
    Put(h + 157, 100, e.link);
    std::memcpy(h + 257,
                "ustar\0"
                "00",
                8);
    Put(h + 265, 32, "root");
    Put(h + 297, 32, "root");
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    Octal(h + 148, 7, sum);
    out.append(h, 512);
    if (e.type == '0') {
      out += e.content;
      out.append((512 - e.content.size() % 512) % 512, '\0');
    }
  }
  if (terminate) out.append(1024, '\0');
  return out;
}

std::string GzipBytes(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string ZstdBytes(const std::string& data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3));
  return out;
}

oci::Descriptor WriteImage(const std::filesystem::path& dir, const std::string& tag,
                           const std::vector<LayerBlob>& layers, const std::string& architecture) {
  oci::OciLayout layout = Check(oci::OciLayout::OpenOrCreate(dir));
  oci::Manifest m;
  m.media_type = std::string(oci::kOciManifest);
  std::vector<Digest> diff_ids;
  std::vector<oci::HistoryEntry> history;
  for (const LayerBlob& l : layers) {
    Digest d = Check(layout.WriteBlob(l.blob));
    m.layers.push_back(oci::Descriptor{l.media_type, d, static_cast<int64_t>(l.blob.size()), {}, {}, {}, ""});
    diff_ids.push_back(Digest::Of(l.tar));
    history.push_back(oci::HistoryEntry{"2024-01-01T00:00:00Z", "test layer", "", "", false});
  }
  oci::ImageConfig config =
      Check(oci::ImageConfig::Parse(R"({"os":"linux","architecture":"amd64","config":{"Cmd":["/bin/sh"]}})"));
  config.SetPlatform(oci::Platform{"linux", architecture, "", "", {}});
  config.SetDiffIds(diff_ids);
  config.SetHistory(history);
  std::string config_bytes = config.Serialize();
  m.config = oci::Descriptor{std::string(oci::kOciConfig),
                             Check(layout.WriteBlob(config_bytes)),
                             static_cast<int64_t>(config_bytes.size()),
                             {},
                             {},
                             {},
                             ""};
  return WriteRawManifest(dir, tag, m.Serialize());
}

oci::Descriptor WriteIndex(const std::filesystem::path& dir, const std::string& tag,
                           const std::vector<oci::Descriptor>& manifests) {
  oci::OciLayout layout = Check(oci::OciLayout::OpenOrCreate(dir));
  oci::Index index;
  index.media_type = std::string(oci::kOciIndex);
  index.manifests = manifests;
  for (oci::Descriptor& d : index.manifests) d.annotations.clear();
  std::string bytes = index.Serialize();
  oci::Descriptor desc{std::string(oci::kOciIndex),
                       Check(layout.WriteBlob(bytes)),
                       static_cast<int64_t>(bytes.size()),
                       {},
                       {},
                       {},
                       ""};
  absl::Status s = layout.SetTag(tag, desc);
  if (!s.ok()) throw std::runtime_error(std::string(s.message()));
  return desc;
}

oci::Descriptor WriteRawManifest(const std::filesystem::path& dir, const std::string& tag,
                                 const std::string& bytes) {
  oci::OciLayout layout = Check(oci::OciLayout::OpenOrCreate(dir));
  oci::Descriptor desc{std::string(oci::kOciManifest),
                       Check(layout.WriteBlob(bytes)),
                       static_cast<int64_t>(bytes.size()),
                       {},
                       {},
                       {},
                       ""};
  absl::Status s = layout.SetTag(tag, desc);
  if (!s.ok()) throw std::runtime_error(std::string(s.message()));
  return desc;
}

}  // namespace tide::testing
