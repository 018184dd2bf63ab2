#include "registry/realm_policy.h"

#include <catch2/catch.hpp>

namespace tide::registry {
namespace {

RegistryHost Host(std::string scheme, std::string host) {
  RegistryHost h;
  h.scheme = std::move(scheme);
  h.host = std::move(host);
  return h;
}

bool Allowed(const RegistryHost& host, std::string_view realm) {
  return CheckRealmMayReceiveCredentials(host, realm).ok();
}

TEST_CASE("credentials go to an https realm on any host") {
  CHECK(Allowed(Host("https", "reg.example.com"), "https://auth.example.org/token"));
  CHECK(Allowed(Host("http", "127.0.0.1:5000"), "https://auth.example.org/token?x=1"));
}

TEST_CASE("credentials go to an http realm only on the plain-http registry's own host name") {
  CHECK(Allowed(Host("http", "127.0.0.1:5000"), "http://127.0.0.1:5001/token"));
  CHECK(Allowed(Host("http", "Reg.Local:80"), "http://reg.local/token"));
  CHECK(Allowed(Host("http", "[::1]:5000"), "http://[::1]:6000/token"));

  auto other = CheckRealmMayReceiveCredentials(Host("http", "127.0.0.1:5000"), "http://localhost:5001/token");
  CHECK(absl::IsUnauthenticated(other));
  CHECK(std::string(other.message()).find("127.0.0.1:5000") != std::string::npos);
  CHECK(std::string(other.message()).find("http://localhost:5001/token") != std::string::npos);
  CHECK_FALSE(Allowed(Host("http", "reg.local"), "http://reg.local.evil.example/token"));
  CHECK_FALSE(Allowed(Host("http", "[::1]:5000"), "http://[::2]:5000/token"));
  // A registry reached over https must not downgrade its own credentials to plain HTTP.
  CHECK_FALSE(Allowed(Host("https", "reg.example.com"), "http://reg.example.com/token"));
}

TEST_CASE("malformed realms get no credentials") {
  RegistryHost host = Host("http", "127.0.0.1:5000");
  CHECK_FALSE(Allowed(host, "ftp://127.0.0.1/token"));
  CHECK_FALSE(Allowed(host, "127.0.0.1/token"));
  CHECK_FALSE(Allowed(host, "http:///token"));
  CHECK_FALSE(Allowed(host, "http://127.0.0.1@evil.example/token"));
  CHECK_FALSE(Allowed(host, "https://user:pw@auth.example.org/token"));
}

}  // namespace
}  // namespace tide::registry
