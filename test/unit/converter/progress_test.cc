#include "converter/progress.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <thread>

using tide::converter::Progress;

namespace {

std::string ReadAll(FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

}  // namespace

TEST_CASE("Progress prints plain periodic lines off a terminal", "[converter][progress]") {
  FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  std::atomic<uint64_t> done{0};
  {
    Progress p(Progress::Options{out, false, std::chrono::milliseconds(20), false});
    int t = p.AddTask("layer 1/1", 1000000, [&] { return done.load(); });
    done = 500000;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    p.Note("a note");
    p.Finish(t, "done: 3 entries");
  }
  std::string text = ReadAll(out);
  std::fclose(out);
  CHECK(text.find("layer 1/1: 0.5 MB / 1.0 MB (50%)") != std::string::npos);
  CHECK(text.find("a note\n") != std::string::npos);
  CHECK(text.find("layer 1/1: done: 3 entries\n") != std::string::npos);
  CHECK(text.find("\x1b[") == std::string::npos);  // no terminal escapes in logs
}

TEST_CASE("Progress draws bars in place on a terminal", "[converter][progress]") {
  FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  {
    Progress p(Progress::Options{out, true, std::chrono::milliseconds(20), false});
    p.AddTask("layer 1/2", 100, [] { return uint64_t{100}; });
    p.AddTask("layer 2/2", 100, [] { return uint64_t{0}; });
    std::this_thread::sleep_for(std::chrono::milliseconds(450));
  }
  std::string text = ReadAll(out);
  std::fclose(out);
  CHECK(text.find("layer 1/2 [==============================] 100%") != std::string::npos);
  CHECK(text.find("\x1b[2A") != std::string::npos);  // cursor moved back up to redraw both bars
}

TEST_CASE("quiet Progress prints nothing", "[converter][progress]") {
  FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  {
    Progress p(Progress::Options{out, false, std::chrono::milliseconds(10), true});
    int t = p.AddTask("layer", 1, [] { return uint64_t{1}; });
    p.Note("hidden");
    p.Finish(t, "done");
  }
  CHECK(ReadAll(out).empty());
  std::fclose(out);
}
