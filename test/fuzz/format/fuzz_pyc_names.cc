// libFuzzer target: the pyc scanner behind the import read-ahead, which reads the compiled __init__
// of every package an image's process imports. Input: a pyc. Every name must be an identifier of 1
// to 64 bytes that the input holds, each once, at most as many as asked for.

#include <algorithm>
#include <span>
#include <string_view>

#include "format/python_modules.h"
#include "test/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (size_t max : {size_t{3}, size_t{4096}}) {
    const auto names = tide::format::PycNames(std::span<const char>(input.data(), input.size()), max);
    FUZZ_CHECK(names.size() <= max);
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string_view name = names[i];
      FUZZ_CHECK(!name.empty() && name.size() <= 64);
      FUZZ_CHECK(!(name.front() >= '0' && name.front() <= '9'));
      FUZZ_CHECK(std::all_of(name.begin(), name.end(), [](char c) {
        return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      }));
      FUZZ_CHECK(input.find(name) != std::string_view::npos);
      FUZZ_CHECK(std::find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(i), names[i]) ==
                 names.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  std::string_view tag;
  if (tide::format::IsCompiledInit(input, &tag)) FUZZ_CHECK(!tag.empty() && tag.size() + 13 == input.size());
  return 0;
}
