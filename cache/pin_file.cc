#include "cache/pin_file.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"

namespace tide::cache {

std::string PinFileName(std::string_view owner) { return HexEncode(Sha256Of(owner)); }

absl::Status WritePinFile(const std::filesystem::path& path, const PinFile& pin) {
  nlohmann::json doc = {{"owner", pin.owner}, {"meta", pin.meta}};
  nlohmann::json& chunks = doc["chunks"] = nlohmann::json::array();
  for (const Sha256Bytes& digest : pin.chunks) chunks.push_back(HexEncode(digest));
  return WriteFileAtomically(path, doc.dump());
}

absl::StatusOr<PinFile> ReadPinFile(const std::filesystem::path& path) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) return absl::NotFoundError(absl::StrCat("pin file ", path.string(), ": ", ec.message()));
  if (size > kMaxPinFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat("pin file ", path.string(), " is ", size,
                                                   " bytes, over the ", kMaxPinFileBytes, " limit"));
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc = nlohmann::json::parse(text.str(), nullptr, false);
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("pin file ", path.string(), ": ", std::string(why)));
  };
  if (!doc.is_object()) return bad("not a JSON object");
  auto owner = doc.find("owner");
  auto meta = doc.find("meta");
  auto chunks = doc.find("chunks");
  if (owner == doc.end() || !owner->is_string() || owner->get_ref<const std::string&>().empty())
    return bad("no owner");
  if (meta == doc.end() || !meta->is_string()) return bad("no meta");
  if (chunks == doc.end() || !chunks->is_array()) return bad("no chunk list");
  PinFile pin;
  pin.owner = owner->get<std::string>();
  pin.meta = meta->get<std::string>();
  pin.chunks.reserve(chunks->size());
  for (const nlohmann::json& hex : *chunks) {
    Sha256Bytes digest;
    if (!hex.is_string() || !ParseSha256Hex(hex.get_ref<const std::string&>(), &digest))
      return bad("a chunk digest is not 64 lowercase hex digits");
    pin.chunks.push_back(digest);
  }
  if (PinFileName(pin.owner) != path.filename().string()) return bad("its name does not match its owner");
  return pin;
}

}  // namespace tide::cache
