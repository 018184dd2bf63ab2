#include "registry/hosts_config.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "test/support/temp_dir.h"

namespace tide::registry {
namespace {

TEST_CASE("No hosts.toml: the registry itself, https unless local or plain_http") {
  auto hub = ConfigureHosts("docker.io", {});
  REQUIRE(hub.ok());
  REQUIRE(hub->size() == 1);
  CHECK((*hub)[0].BaseUrl() == "https://registry-1.docker.io/v2");
  CHECK((*hub)[0].ns.empty());

  auto local = ConfigureHosts("127.0.0.1:5000", {});
  REQUIRE(local.ok());
  CHECK((*local)[0].BaseUrl() == "http://127.0.0.1:5000/v2");
  // A name anyone can register that merely starts like a loopback address stays on https.
  auto lookalike = ConfigureHosts("127.evil.example:5000", {});
  REQUIRE(lookalike.ok());
  CHECK((*lookalike)[0].BaseUrl() == "https://127.evil.example:5000/v2");

  auto plain = ConfigureHosts("reg.example.com", HostsOptions{.hosts_dir = "", .plain_http = true});
  REQUIRE(plain.ok());
  CHECK((*plain)[0].BaseUrl() == "http://reg.example.com/v2");
}

TEST_CASE("hosts.toml mirrors come first, in file order, with their settings") {
  testing::TempDir dir;
  testing::WriteFile(dir / "registry.example.com" / "ca.pem",
                     "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  std::string toml = R"(
server = "https://registry.example.com"
capabilities = ["pull", "resolve", "push"]

[host."https://zz-mirror.local:5000"]
  capabilities = ["pull", "resolve"]
  ca = "ca.pem"
  skip_verify = true
  [host."https://zz-mirror.local:5000".header]
    x-token = "abc"

[host."http://aa-mirror.local/prefix"]
  capabilities = ["pull"]
  client = [["client.crt", "client.key"]]

[host."https://dragonfly.local:65001/custom/v2api"]
  override_path = true
)";
  testing::WriteFile(dir / "registry.example.com" / "hosts.toml", toml);
  auto hosts = ConfigureHosts("registry.example.com",
                              HostsOptions{.hosts_dir = dir.path().string(), .plain_http = false});
  REQUIRE(hosts.ok());
  REQUIRE(hosts->size() == 4);
  const auto& h = *hosts;
  CHECK(h[0].BaseUrl() == "https://zz-mirror.local:5000/v2");
  CHECK(h[0].capabilities == (kCapPull | kCapResolve));
  CHECK(h[0].tls.skip_verify);
  CHECK(h[0].tls.ca_pem.find("MIIB") != std::string::npos);
  REQUIRE(h[0].headers.size() == 1);
  CHECK(h[0].headers[0] == std::make_pair(std::string("x-token"), std::string("abc")));
  CHECK(h[0].ns == "registry.example.com");
  CHECK(h[1].BaseUrl() == "http://aa-mirror.local/prefix/v2");
  CHECK(h[1].capabilities == kCapPull);
  CHECK(h[1].tls.client_cert_path == (dir / "registry.example.com" / "client.crt").string());
  CHECK(h[1].tls.client_key_path == (dir / "registry.example.com" / "client.key").string());
  CHECK(h[2].BaseUrl() == "https://dragonfly.local:65001/custom/v2api");
  CHECK(h[3].BaseUrl() == "https://registry.example.com/v2");
  CHECK(h[3].ns.empty());
  CHECK(h[3].capabilities == (kCapPull | kCapResolve | kCapPush));
}

TEST_CASE("_default hosts.toml applies to registries without their own") {
  testing::TempDir dir;
  testing::WriteFile(dir / "_default" / "hosts.toml", "[host.\"http://cache.local:8080\"]\n");
  auto hosts = ConfigureHosts("quay.io", HostsOptions{.hosts_dir = dir.path().string(), .plain_http = false});
  REQUIRE(hosts.ok());
  REQUIRE(hosts->size() == 2);
  CHECK((*hosts)[0].BaseUrl() == "http://cache.local:8080/v2");
  CHECK((*hosts)[0].ns == "quay.io");
  CHECK((*hosts)[1].BaseUrl() == "https://quay.io/v2");
}

TEST_CASE("Malformed hosts.toml is an error naming the file") {
  testing::TempDir dir;
  HostsOptions options{.hosts_dir = dir.path().string(), .plain_http = false};
  testing::WriteFile(dir / "r.io" / "hosts.toml", "[host.\"https://m\"\ncapabilities = 3\n");
  auto bad_syntax = ConfigureHosts("r.io", options);
  REQUIRE_FALSE(bad_syntax.ok());
  CHECK(std::string(bad_syntax.status().message()).find("r.io/hosts.toml") != std::string::npos);

  testing::WriteFile(dir / "s.io" / "hosts.toml", "[host.\"https://m\"]\ncapabilities = [\"fly\"]\n");
  auto bad_cap = ConfigureHosts("s.io", options);
  REQUIRE_FALSE(bad_cap.ok());
  CHECK(std::string(bad_cap.status().message()).find("unknown capability \"fly\"") != std::string::npos);

  testing::WriteFile(dir / "t.io" / "hosts.toml", "ca = \"missing.pem\"\n");
  auto missing_ca = ConfigureHosts("t.io", options);
  REQUIRE_FALSE(missing_ca.ok());
  CHECK(std::string(missing_ca.status().message()).find("missing.pem") != std::string::npos);
}

TEST_CASE("A CA path to a device, a fifo or a huge file is refused, not read") {
  testing::TempDir dir;
  HostsOptions options{.hosts_dir = dir.path().string(), .plain_http = false};
  testing::WriteFile(dir / "z.io" / "hosts.toml", "ca = \"/dev/zero\"\n");
  auto device = ConfigureHosts("z.io", options);
  REQUIRE_FALSE(device.ok());
  CHECK_THAT(std::string(device.status().message()), Catch::Contains("not a regular file"));

  // Opening a fifo for reading would block until a writer came, hanging the pull.
  std::filesystem::create_directories(dir / "f.io");
  REQUIRE(::mkfifo((dir / "f.io" / "ca.pem").c_str(), 0600) == 0);
  testing::WriteFile(dir / "f.io" / "hosts.toml", "ca = \"ca.pem\"\n");
  auto fifo = ConfigureHosts("f.io", options);
  REQUIRE_FALSE(fifo.ok());
  CHECK_THAT(std::string(fifo.status().message()), Catch::Contains("not a regular file"));

  testing::WriteFile(dir / "b.io" / "big.pem", std::string((4 << 20) + 1, 'x'));
  testing::WriteFile(dir / "b.io" / "hosts.toml", "ca = \"big.pem\"\n");
  auto big = ConfigureHosts("b.io", options);
  REQUIRE_FALSE(big.ok());
  CHECK_THAT(std::string(big.status().message()), Catch::Contains("is larger than"));
}

}  // namespace
}  // namespace tide::registry
