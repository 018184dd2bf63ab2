#include "common/log.h"

#include <catch2/catch.hpp>
#include <regex>

namespace tlog = tide::log;

TEST_CASE("log: logrus text format with quoted values where needed", "[common][log]") {
  std::string line =
      tlog::Format(tlog::Level::kWarn, "remote mount failed",
                   {{"key", "default/1/extract-1 sha256:ab"}, {"ref", "sha256:ab"}, {"n", "3"}});
  INFO(line);
  CHECK(std::regex_match(line, std::regex(R"(time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z" level=warning )"
                                          R"(msg="remote mount failed" key="default/1/extract-1 sha256:ab" )"
                                          R"(ref=sha256:ab n=3)")));
  CHECK(tlog::Format(tlog::Level::kInfo, "a \"q\"", {}).find(R"(msg="a \"q\"")") != std::string::npos);
  CHECK(tlog::ParseLevel("warning").ok());
  CHECK_FALSE(tlog::ParseLevel("verbose").ok());
}

TEST_CASE("log: a capture sees the lines written while it lives, at or above the level", "[common][log]") {
  tlog::Setup(tlog::Level::kInfo);
  std::string text;
  {
    tlog::ScopedCapture capture;
    tlog::Debug("hidden below the level");
    tlog::Warn("read failed", {{"layer", "sha256:abc"}});
    text = capture.Text();
  }
  tlog::Warn("after the capture");
  CHECK(text.find("hidden") == std::string::npos);
  CHECK(text.find(R"(level=warning msg="read failed" layer=sha256:abc)") != std::string::npos);
  CHECK(text.find("after the capture") == std::string::npos);
}

TEST_CASE("log: Enabled tells a hot path whether a level's records are written", "[common][log]") {
  tlog::Setup(tlog::Level::kInfo);
  CHECK_FALSE(tlog::Enabled(tlog::Level::kTrace));
  CHECK_FALSE(tlog::Enabled(tlog::Level::kDebug));
  CHECK(tlog::Enabled(tlog::Level::kInfo));
  CHECK(tlog::Enabled(tlog::Level::kError));
  tlog::Setup(tlog::Level::kTrace);
  CHECK(tlog::Enabled(tlog::Level::kTrace));
  tlog::Setup(tlog::Level::kInfo);
}
