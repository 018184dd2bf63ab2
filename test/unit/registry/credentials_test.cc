#include "registry/credentials.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "test/support/temp_dir.h"

namespace tide::registry {
namespace {

CredentialOptions Options(const std::string& config, const std::string& helper_dir = "",
                          std::map<std::string, Credential> explicit_credentials = {}) {
  CredentialOptions o;
  o.docker_config_path = config;
  o.helper_dir = helper_dir;
  o.explicit_credentials = std::move(explicit_credentials);
  return o;
}

TEST_CASE("config.json auths: base64 auth, username/password, identity tokens, Hub aliases") {
  testing::TempDir dir;
  // "alice:s3cr:et" in base64: the password may itself contain ':'.
  testing::WriteFile(dir / "config.json", R"({
    "auths": {
      "https://index.docker.io/v1/": {"auth": "YWxpY2U6czNjcjpldA=="},
      "reg.example.com:5000": {"username": "bob", "password": "pw"},
      "https://idp.example.com": {"identitytoken": "refresh-me"}
    }
  })");
  auto store = CredentialStore::Load(Options((dir / "config.json").string()));
  REQUIRE(store.ok());
  auto hub = store->Lookup("registry-1.docker.io");
  REQUIRE(hub.ok());
  CHECK(hub->username == "alice");
  CHECK(hub->password == "s3cr:et");
  auto bob = store->Lookup("reg.example.com:5000");
  REQUIRE(bob.ok());
  CHECK(bob->username == "bob");
  CHECK(bob->password == "pw");
  auto idp = store->Lookup("idp.example.com");
  REQUIRE(idp.ok());
  CHECK(idp->identity_token == "refresh-me");
  CHECK(idp->Describe() == "identity token");
  auto none = store->Lookup("other.example.com");
  REQUIRE(none.ok());
  CHECK(none->empty());
}

TEST_CASE("Explicit credentials win over config.json") {
  testing::TempDir dir;
  testing::WriteFile(dir / "config.json", R"({"auths": {"r.io": {"username": "cfg", "password": "x"}}})");
  auto store = CredentialStore::Load(
      Options((dir / "config.json").string(), "", {{"r.io", Credential{"cli", "y", ""}}}));
  REQUIRE(store.ok());
  auto c = store->Lookup("r.io");
  REQUIRE(c.ok());
  CHECK(c->username == "cli");
  CHECK(c->Describe() == "user cli");
}

void WriteHelper(const testing::TempDir& dir, const std::string& name, const std::string& body) {
  auto path = dir / ("docker-credential-" + name);
  testing::WriteFile(path, "#!/bin/sh\n" + body);
  chmod(path.c_str(), 0755);
}

TEST_CASE("credHelpers and credsStore run docker-credential programs") {
  testing::TempDir dir;
  // The helper protocol: "get" on argv, the server URL on stdin, JSON on stdout.
  WriteHelper(
      dir, "fake",
      "read url\n"
      "case \"$url\" in\n"
      "  r.io) echo '{\"ServerURL\":\"r.io\",\"Username\":\"helper-user\",\"Secret\":\"helper-pw\"}' ;;\n"
      "  https://index.docker.io/v1/) echo '{\"Username\":\"<token>\",\"Secret\":\"hub-refresh\"}' ;;\n"
      "  *) echo 'credentials not found in native keychain'; exit 1 ;;\n"
      "esac\n");
  WriteHelper(dir, "broken", "exit 3\n");
  testing::WriteFile(dir / "config.json",
                     R"({"credsStore": "fake", "credHelpers": {"broken.io": "broken"}})");
  auto store = CredentialStore::Load(Options((dir / "config.json").string(), dir.path().string()));
  REQUIRE(store.ok());
  auto r = store->Lookup("r.io");
  REQUIRE(r.ok());
  CHECK(r->username == "helper-user");
  CHECK(r->password == "helper-pw");
  auto hub = store->Lookup("docker.io");
  REQUIRE(hub.ok());
  CHECK(hub->identity_token == "hub-refresh");
  auto missing = store->Lookup("nothing.io");
  REQUIRE(missing.ok());
  CHECK(missing->empty());
  auto broken = store->Lookup("broken.io");
  REQUIRE_FALSE(broken.ok());
  CHECK(std::string(broken.status().message()).find("docker-credential-broken") != std::string::npos);
}

TEST_CASE("Malformed config.json is an error naming the file") {
  testing::TempDir dir;
  testing::WriteFile(dir / "config.json", "{not json");
  auto store = CredentialStore::Load(Options((dir / "config.json").string()));
  REQUIRE_FALSE(store.ok());
  CHECK(std::string(store.status().message()).find("config.json") != std::string::npos);
  testing::WriteFile(dir / "c2.json", R"({"auths": {"r.io": {"auth": "!!!"}}})");
  auto bad_auth = CredentialStore::Load(Options((dir / "c2.json").string()));
  REQUIRE_FALSE(bad_auth.ok());
  CHECK(std::string(bad_auth.status().message()).find("r.io") != std::string::npos);
}

}  // namespace
}  // namespace tide::registry
