#include <catch2/catch.hpp>

#include "tidectl/status_command.h"

namespace tide::tidectl {
namespace {

TEST_CASE("tidectl status: one line per layer under its image") {
  auto doc = nlohmann::json::parse(R"({"images": [{"image": "127.0.0.1:5000/app", "layers": [
      {"layer": "127.0.0.1:5000/app@sha256:0123456789abcdef0123", "mountpoint": "/x", "bytes_cached": 1048576,
       "bytes": 4194304, "chunks_cached": 1, "chunks": 4, "prefetch": "running", "mounted_seconds": 125.5,
       "read_errors": 2, "poisoned": false},
      {"layer": "127.0.0.1:5000/app@sha256:fedcba9876543210fedc", "bytes_cached": 0, "bytes": 0,
       "prefetch": "done", "mounted_seconds": 3, "read_errors": 0, "poisoned": true}]}]})");
  std::string text = FormatStatus(doc);
  INFO(text);
  CHECK(text.find("image 127.0.0.1:5000/app\n") == 0);
  CHECK(text.find("sha256:0123456789ab  1.0 MiB / 4.0 MiB (25%)") != std::string::npos);
  CHECK(text.find("running   2m5s      2\n") != std::string::npos);
  CHECK(text.find("POISONED") != std::string::npos);
}

TEST_CASE("tidectl status: nothing mounted, or a document of the wrong shape, prints without failing") {
  CHECK(FormatStatus(nlohmann::json::parse(R"({"images": []})")) == "no layers mounted lazily\n");
  for (const char* odd : {R"([])", R"({"images": 3})", R"({"images": [1, {"layers": 2}, {"layers": [[]]}]})",
                          R"({"images": [{"layers": [{"bytes": "x", "mounted_seconds": -1}]}]})"}) {
    INFO(odd);
    CHECK_NOTHROW(FormatStatus(nlohmann::json::parse(odd)));
  }
}

}  // namespace
}  // namespace tide::tidectl
