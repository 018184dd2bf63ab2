#include "converter/read_ahead_source.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>

#include "format/byte_io.h"

using tide::converter::ReadAheadSource;

namespace {

// Serves data in odd-sized pieces, then fails if asked to.
class ChoppySource final : public tide::format::ByteSource {
 public:
  ChoppySource(std::string data, bool fail_at_end) : data_(std::move(data)), fail_(fail_at_end) {}
  absl::StatusOr<size_t> Read(char* buffer, size_t size) override {
    if (pos_ == data_.size()) {
      if (fail_) return absl::DataLossError("layer 1/1: truncated gzip stream");
      return 0;
    }
    size_t n = std::min({size, data_.size() - pos_, size_t{777}});
    std::copy_n(data_.data() + pos_, n, buffer);
    pos_ += n;
    return n;
  }

 private:
  std::string data_;
  size_t pos_ = 0;
  bool fail_;
};

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131) % 251);
  return s;
}

}  // namespace

TEST_CASE("ReadAheadSource passes every byte through in order", "[converter][readahead]") {
  for (size_t size : {size_t{0}, size_t{1}, size_t{4096}, size_t{100000}}) {
    std::string data = Pattern(size);
    ChoppySource inner(data, false);
    ReadAheadSource ra(inner, 1000, 3);
    std::string out;
    char buf[333];
    while (true) {
      auto n = ra.Read(buf, sizeof buf);
      REQUIRE(n.ok());
      if (*n == 0) break;
      out.append(buf, *n);
    }
    CHECK(out == data);
    auto again = ra.Read(buf, sizeof buf);
    REQUIRE(again.ok());
    CHECK(*again == 0);
  }
}

TEST_CASE("ReadAheadSource reports the inner error after the good bytes", "[converter][readahead]") {
  std::string data = Pattern(5000);
  ChoppySource inner(data, true);
  ReadAheadSource ra(inner, 1024, 2);
  std::string out;
  char buf[512];
  absl::Status error;
  while (true) {
    auto n = ra.Read(buf, sizeof buf);
    if (!n.ok()) {
      error = n.status();
      break;
    }
    REQUIRE(*n != 0);
    out.append(buf, *n);
  }
  CHECK(out == data.substr(0, out.size()));
  CHECK(error.message() == "layer 1/1: truncated gzip stream");
}

TEST_CASE("ReadAheadSource can be dropped before the end", "[converter][readahead]") {
  std::string data = Pattern(1 << 20);
  ChoppySource inner(data, false);
  {
    ReadAheadSource ra(inner, 4096, 2);
    char buf[10];
    auto n = ra.Read(buf, sizeof buf);
    REQUIRE(n.ok());
    CHECK(*n == 10);
  }  // must join without hanging
  SUCCEED("destroyed mid-stream");
}
