#include "registry/hosts_config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "registry/reference.h"

namespace tide::registry {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSystemCaBundle = "/etc/ssl/certs/ca-certificates.crt";

// The system bundle is ~200 KiB; a path to a device, a fifo or a huge file must not hang or fill memory.
constexpr uintmax_t kMaxConfigFileSize = 4 << 20;

absl::StatusOr<std::string> ReadWholeFile(const fs::path& path, std::string_view what) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", Sv(what), " ", path.string(), ": not a regular file"));
  }
  if (uintmax_t size = fs::file_size(path, ec); ec || size > kMaxConfigFileSize) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(what), " ", path.string(), " is larger than ", kMaxConfigFileSize, " bytes"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", Sv(what), " ", path.string()));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Parser {
  std::string source;
  fs::path base_dir;

  absl::Status Error(std::string_view why) const {
    return absl::InvalidArgumentError(absl::StrCat("hosts config ", source, ": ", Sv(why)));
  }

  fs::path Resolve(std::string_view p) const {
    fs::path path(p);
    return path.is_absolute() || base_dir.empty() ? path : base_dir / path;
  }

  absl::Status ApplyCa(const toml::node& node, TlsConfig& tls) const {
    std::vector<std::string> files;
    if (auto s = node.value<std::string>()) {
      files.push_back(*s);
    } else if (auto* arr = node.as_array()) {
      for (const auto& item : *arr) {
        auto s2 = item.value<std::string>();
        if (!s2) return Error("ca entries must be strings");
        files.push_back(*s2);
      }
    } else {
      return Error("ca must be a path or a list of paths");
    }
    std::string pem;
    if (auto system = ReadWholeFile(kSystemCaBundle, "CA bundle"); system.ok()) pem = *system;
    for (const std::string& f : files) {
      TIDE_ASSIGN_OR_RETURN(std::string ca, ReadWholeFile(Resolve(f), "CA certificate"));
      absl::StrAppend(&pem, "\n", ca);
    }
    tls.ca_pem = std::move(pem);
    return absl::OkStatus();
  }

  // client = "cert.pem" | ["cert.pem", ...] | [["cert", "key"], ...]; the first pair is used.
  absl::Status ApplyClient(const toml::node& node, TlsConfig& tls) const {
    std::string cert, key;
    if (auto s = node.value<std::string>()) {
      cert = *s;
    } else if (auto* arr = node.as_array(); arr != nullptr && !arr->empty()) {
      const toml::node& first = *arr->get(0);
      if (auto s2 = first.value<std::string>()) {
        cert = *s2;
      } else if (auto* pair = first.as_array(); pair != nullptr && !pair->empty()) {
        cert = pair->get(0)->value_or(std::string());
        if (pair->size() > 1) key = pair->get(1)->value_or(std::string());
      }
    }
    if (cert.empty()) return Error("client must name a certificate file");
    tls.client_cert_path = Resolve(cert).string();
    tls.client_key_path = key.empty() ? tls.client_cert_path : Resolve(key).string();
    return absl::OkStatus();
  }

  absl::StatusOr<unsigned> Capabilities(const toml::node& node) const {
    auto* arr = node.as_array();
    if (arr == nullptr) return Error("capabilities must be a list");
    unsigned caps = 0;
    for (const auto& item : *arr) {
      std::string c = item.value_or(std::string());
      if (c == "pull") {
        caps |= kCapPull;
      } else if (c == "resolve") {
        caps |= kCapResolve;
      } else if (c == "push") {
        caps |= kCapPush;
      } else {
        return Error(absl::StrCat("unknown capability \"", c, "\""));
      }
    }
    return caps;
  }

  // Fields shared by the top level (the server) and [host."..."] tables.
  absl::Status ApplyFields(const toml::table& t, RegistryHost& host, bool& override_path) const {
    if (auto* n = t.get("capabilities")) {
      TIDE_ASSIGN_OR_RETURN(host.capabilities, Capabilities(*n));
    }
    if (auto* n = t.get("skip_verify")) {
      auto b = n->value<bool>();
      if (!b) return Error("skip_verify must be a boolean");
      host.tls.skip_verify = *b;
    }
    if (auto* n = t.get("ca")) TIDE_RETURN_IF_ERROR(ApplyCa(*n, host.tls));
    if (auto* n = t.get("client")) TIDE_RETURN_IF_ERROR(ApplyClient(*n, host.tls));
    if (auto* n = t.get("override_path")) override_path = n->value_or(false);
    if (auto* h = t.get_as<toml::table>("header")) {
      for (const auto& [name, value] : *h) {
        if (auto s = value.value<std::string>()) {
          host.headers.emplace_back(std::string(name.str()), *s);
        } else if (auto* arr = value.as_array()) {
          for (const auto& v : *arr)
            host.headers.emplace_back(std::string(name.str()), v.value_or(std::string()));
        }
      }
    }
    return absl::OkStatus();
  }

  absl::Status SetUrl(std::string_view url, RegistryHost& host, bool override_path) const {
    std::string_view rest = url;
    if (size_t p = rest.find("://"); p != std::string_view::npos) {
      host.scheme = std::string(rest.substr(0, p));
      rest = rest.substr(p + 3);
    }
    if (host.scheme != "http" && host.scheme != "https")
      return Error(absl::StrCat("bad scheme in ", Sv(url)));
    size_t slash = rest.find('/');
    host.host = std::string(rest.substr(0, slash));
    if (host.host.empty()) return Error(absl::StrCat("no host in ", Sv(url)));
    std::string path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
    while (!path.empty() && path.back() == '/') path.pop_back();
    if (!override_path && !path.ends_with("/v2")) path += "/v2";
    host.path = path;
    return absl::OkStatus();
  }
};

RegistryHost DefaultServer(std::string_view registry, const HostsOptions& options) {
  RegistryHost server;
  server.host = DefaultServerHost(registry);
  server.scheme = options.plain_http || IsLocalhost(registry) ? "http" : "https";
  return server;
}

}  // namespace

std::string DefaultServerHost(std::string_view registry) {
  if (registry == kDockerHubRegistry) return "registry-1.docker.io";
  return std::string(registry);
}

absl::StatusOr<std::vector<RegistryHost>> ParseHostsToml(std::string_view registry,
                                                         std::string_view toml_text,
                                                         const std::string& source_name,
                                                         const HostsOptions& options) {
  Parser parser{source_name, fs::path(source_name).parent_path()};
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    return parser.Error(std::string(e.description()));
  }
  std::vector<RegistryHost> hosts;
  if (auto* host_table = root.get_as<toml::table>("host")) {
    std::vector<std::pair<toml::source_position, std::string>> order;
    for (const auto& [key, node] : *host_table)
      order.emplace_back(node.source().begin, std::string(key.str()));
    // toml++ sorts keys; containerd tries mirrors in file order.
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [pos, url] : order) {
      const toml::table* t = host_table->get_as<toml::table>(url);
      if (t == nullptr) return parser.Error(absl::StrCat("host \"", url, "\" must be a table"));
      RegistryHost mirror;
      bool override_path = false;
      TIDE_RETURN_IF_ERROR(parser.ApplyFields(*t, mirror, override_path));
      TIDE_RETURN_IF_ERROR(parser.SetUrl(url, mirror, override_path));
      mirror.ns = std::string(registry);
      hosts.push_back(std::move(mirror));
    }
  }
  RegistryHost server = DefaultServer(registry, options);
  bool override_path = false;
  TIDE_RETURN_IF_ERROR(parser.ApplyFields(root, server, override_path));
  if (auto s = root["server"].value<std::string>()) {
    TIDE_RETURN_IF_ERROR(parser.SetUrl(*s, server, override_path));
  }
  hosts.push_back(std::move(server));
  return hosts;
}

absl::StatusOr<std::vector<RegistryHost>> ConfigureHosts(std::string_view registry,
                                                         const HostsOptions& options) {
  if (!options.hosts_dir.empty()) {
    for (const std::string& dir : {std::string(registry), std::string("_default")}) {
      fs::path file = fs::path(options.hosts_dir) / dir / "hosts.toml";
      std::error_code ec;
      if (!fs::exists(file, ec)) continue;
      TIDE_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(file, "hosts config"));
      return ParseHostsToml(registry, text, file.string(), options);
    }
  }
  return std::vector<RegistryHost>{DefaultServer(registry, options)};
}

}  // namespace tide::registry
