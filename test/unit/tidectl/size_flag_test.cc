#include "tidectl/size_flag.h"

#include <catch2/catch.hpp>

using tide::tidectl::ParseSize;

TEST_CASE("ParseSize understands binary units", "[converter]") {
  CHECK(*ParseSize("4096") == 4096);
  CHECK(*ParseSize("512K") == 512 * 1024);
  CHECK(*ParseSize("4MiB") == 4u << 20);
  CHECK(*ParseSize("1m") == 1u << 20);
  CHECK(*ParseSize("2G") == 2ull << 30);
  CHECK_FALSE(ParseSize("").ok());
  CHECK_FALSE(ParseSize("M").ok());
  CHECK_FALSE(ParseSize("4X").ok());
  CHECK_FALSE(ParseSize("-1").ok());
  CHECK_FALSE(ParseSize("99999999999999999999G").ok());
}
