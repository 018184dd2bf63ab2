#ifndef TIDE_TEST_SUPPORT_REGISTRY_PKI_H_
#define TIDE_TEST_SUPPORT_REGISTRY_PKI_H_

#include <filesystem>

#include "absl/status/statusor.h"

namespace tide::testing {

struct TestPki {
  std::filesystem::path ca_cert;      // a fresh CA
  std::filesystem::path server_cert;  // for 127.0.0.1 and localhost, signed by the CA
  std::filesystem::path server_key;
  std::filesystem::path client_cert;  // a TLS client certificate signed by the CA
  std::filesystem::path client_key;
  std::filesystem::path signing_cert;  // self-signed RSA cert for JWTs (token auth rootcertbundle)
  std::filesystem::path signing_key;
};

// Generates the certificates under dir with the openssl command line tool.
absl::StatusOr<TestPki> MakeTestPki(const std::filesystem::path& dir);

}  // namespace tide::testing

#endif  // TIDE_TEST_SUPPORT_REGISTRY_PKI_H_
