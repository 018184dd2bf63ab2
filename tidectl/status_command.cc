#include "tidectl/status_command.h"

#include <chrono>
#include <iostream>
#include <memory>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "registry/http_transport.h"
#include "tidectl/pull_progress.h"

namespace tide::tidectl {
namespace {

struct StatusFlags {
  std::string address = "127.0.0.1:9880";
  bool json = false;
};

std::string Duration(double seconds) {
  auto s = static_cast<int64_t>(seconds);
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrCat(s / 60, "m", s % 60, "s");
  return absl::StrCat(s / 3600, "h", (s % 3600) / 60, "m");
}

// The layer digest, shortened like docker's ids: "sha256:0123456789ab".
std::string ShortLayer(const std::string& name) {
  size_t at = name.rfind('@');
  std::string digest = at == std::string::npos ? name : name.substr(at + 1);
  return digest.substr(0, 19);
}

// A field of the daemon's document, or `fallback` when absent or of another type.
template <typename T>
T Field(const nlohmann::json& object, const char* key, T fallback) {
  auto it = object.find(key);
  if (it == object.end()) return fallback;
  if constexpr (std::is_same_v<T, std::string>) {
    return it->is_string() ? it->get<std::string>() : fallback;
  } else if constexpr (std::is_same_v<T, bool>) {
    return it->is_boolean() ? it->get<bool>() : fallback;
  } else {
    return it->is_number() ? it->get<T>() : fallback;
  }
}

int RunStatus(const StatusFlags& flags) {
  registry::HttpTransport transport(registry::TransportOptions{});
  registry::HttpRequest request;
  request.url = absl::StrCat("http://", flags.address, "/status");
  request.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto response = transport.Perform(request);
  if (!response.ok() || response->status != 200) {
    std::cerr << "tidectl status: cannot ask tide-snapshotter at " << flags.address << ": "
              << (response.ok() ? absl::StrCat("HTTP ", response->status)
                                : std::string(response.status().message()))
              << " (is metrics_address set in its config?)\n";
    return 1;
  }
  nlohmann::json status = nlohmann::json::parse(response->body, nullptr, false);
  if (!status.is_object()) {
    std::cerr << "tidectl status: tide-snapshotter at " << flags.address << " answered with no JSON object\n";
    return 1;
  }
  if (flags.json) {
    std::cout << status.dump(2) << "\n";
  } else {
    std::cout << FormatStatus(status);
  }
  return 0;
}

}  // namespace

std::string FormatStatus(const nlohmann::json& status) {
  const nlohmann::json empty = nlohmann::json::array();
  const nlohmann::json& images = status.is_object() && status.contains("images") ? status["images"] : empty;
  if (!images.is_array() || images.empty()) return "no layers mounted lazily\n";
  std::string out;
  for (const nlohmann::json& image : images) {
    if (!image.is_object()) continue;
    absl::StrAppend(&out, "image ", Field(image, "image", std::string("?")), "\n");
    absl::StrAppend(&out, absl::StrFormat("  %-19s  %-28s  %-8s  %-8s  %s\n", "LAYER", "CACHED", "PREFETCH",
                                          "MOUNTED", "READ ERRORS"));
    const nlohmann::json& layers = image.contains("layers") ? image["layers"] : empty;
    if (!layers.is_array()) continue;
    for (const nlohmann::json& l : layers) {
      if (!l.is_object()) continue;
      const auto bytes = Field(l, "bytes", int64_t{0});
      const auto cached = Field(l, "bytes_cached", int64_t{0});
      const double percent =
          bytes > 0 ? 100.0 * static_cast<double>(cached) / static_cast<double>(bytes) : 100;
      std::string cached_text =
          absl::StrCat(HumanBytes(cached), " / ", HumanBytes(bytes), absl::StrFormat(" (%.0f%%)", percent));
      std::string prefetch = Field(l, "prefetch", std::string("?"));
      if (Field(l, "poisoned", false)) prefetch = "POISONED";
      absl::StrAppend(&out, absl::StrFormat("  %-19s  %-28s  %-8s  %-8s  %d\n",
                                            ShortLayer(Field(l, "layer", std::string())), cached_text,
                                            prefetch, Duration(Field(l, "mounted_seconds", 0.0)),
                                            Field(l, "read_errors", int64_t{0})));
    }
  }
  return out;
}

void AddStatusCommand(CLI::App& app) {
  auto flags = std::make_shared<StatusFlags>();
  CLI::App* cmd = app.add_subcommand("status", "Show the layers tide-snapshotter serves lazily, per image");
  cmd->add_option("--address", flags->address, "tide-snapshotter's metrics_address (HOST:PORT)")
      ->capture_default_str();
  cmd->add_flag("--json", flags->json, "Print the daemon's status document as JSON");
  cmd->callback([flags] {
    int rc = RunStatus(*flags);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace tide::tidectl
