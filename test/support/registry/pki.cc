#include "test/support/registry/pki.h"

#include "absl/strings/str_cat.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"

namespace tide::testing {

absl::StatusOr<TestPki> MakeTestPki(const std::filesystem::path& dir) {
  TestPki pki;
  pki.ca_cert = dir / "ca.pem";
  pki.server_cert = dir / "server.pem";
  pki.server_key = dir / "server.key";
  pki.client_cert = dir / "client.pem";
  pki.client_key = dir / "client.key";
  pki.signing_cert = dir / "signing.pem";
  pki.signing_key = dir / "signing.key";
  WriteFile(dir / "client.ext", "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n");
  WriteFile(dir / "san.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n");
  std::string d = dir.string();
  std::string script = absl::StrCat(
      "set -e; cd '", d, "';",
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=tide-test-ca "
      "  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign "
      "2>/dev/null;",
      "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 "
      "2>/dev/null;",
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
      "  -extfile san.ext 2>/dev/null;",
      "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=tide-client "
      "2>/dev/null;",
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 "
      "  -extfile client.ext 2>/dev/null;",
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout signing.key -out signing.pem -days 2 "
      "  -subj /CN=tide-test-token-signer 2>/dev/null;");
  CommandResult r = RunShell(script, std::chrono::seconds(60));
  if (r.exit_code != 0) return absl::InternalError(absl::StrCat("openssl failed: ", r.output));
  return pki;
}

}  // namespace tide::testing
