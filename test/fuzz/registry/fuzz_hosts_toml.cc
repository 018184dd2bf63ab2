// libFuzzer target: hosts.toml (containerd's registry host configuration), which an operator writes
// but which names files and URLs. Accepted hosts must be usable: a scheme of http or https, a host,
// and the API path under which requests go.

#include <string>
#include <string_view>

#include "registry/hosts_config.h"
#include "test/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  tide::registry::HostsOptions options;
  options.hosts_dir = "/nonexistent-tide-fuzz";
  auto hosts = tide::registry::ParseHostsToml("registry.example", text, "fuzz/hosts.toml", options);
  if (!hosts.ok()) return 0;
  FUZZ_CHECK(!hosts->empty());
  for (const auto& host : *hosts) {
    FUZZ_CHECK(host.scheme == "http" || host.scheme == "https");
    FUZZ_CHECK(!host.host.empty());
    (void)host.BaseUrl();
  }
  return 0;
}
