#include "warm/pin_record.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tide::warm {

std::string EncodePinRecord(const PinRecord& record) {
  nlohmann::json layers = nlohmann::json::array();
  for (const PinnedLayer& l : record.layers) {
    layers.push_back({{"digest", l.digest.str()},
                      {"index_offset", l.index.offset},
                      {"index_size", l.index.size},
                      {"index_digest", l.index.digest.str()},
                      {"blob_size", l.index.blob_size}});
  }
  return nlohmann::json{{"reference", record.reference},
                        {"manifest", record.manifest.str()},
                        {"mode", record.all ? "all" : "startup"},
                        {"layers", std::move(layers)}}
      .dump();
}

absl::StatusOr<PinRecord> DecodePinRecord(std::string_view text) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  auto bad = [](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("pin record: ", std::string(why)));
  };
  if (!doc.is_object() || !doc["reference"].is_string() || !doc["manifest"].is_string() ||
      !doc["mode"].is_string() || !doc["layers"].is_array()) {
    return bad("missing fields");
  }
  PinRecord record;
  record.reference = doc["reference"].get<std::string>();
  TIDE_ASSIGN_OR_RETURN(record.manifest, Digest::Parse(doc["manifest"].get<std::string>()));
  record.all = doc["mode"] == "all";
  for (const nlohmann::json& l : doc["layers"]) {
    if (!l.is_object() || !l["digest"].is_string() || !l["index_digest"].is_string() ||
        !l["index_offset"].is_number_unsigned() || !l["index_size"].is_number_unsigned() ||
        !l["blob_size"].is_number_unsigned()) {
      return bad("a layer is missing fields");
    }
    PinnedLayer layer;
    TIDE_ASSIGN_OR_RETURN(layer.digest, Digest::Parse(l["digest"].get<std::string>()));
    TIDE_ASSIGN_OR_RETURN(layer.index.digest, Digest::Parse(l["index_digest"].get<std::string>()));
    layer.index.offset = l["index_offset"].get<uint64_t>();
    layer.index.size = l["index_size"].get<uint64_t>();
    layer.index.blob_size = l["blob_size"].get<uint64_t>();
    record.layers.push_back(std::move(layer));
  }
  return record;
}

}  // namespace tide::warm
