#include "format/python_modules.h"

#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace tide::format {
namespace {

using Names = std::vector<std::string>;

// A CPython 3.11 pyc header (magic 3495, no flags, source mtime and size), then `body`.
std::string Pyc(std::string_view body) {
  std::string pyc("\xa7\x0d\r\n", 4);
  pyc.append(12, '\0');
  pyc.append(body);
  return pyc;
}

// A short ASCII string as marshal writes it: `code`, a length byte, the bytes.
std::string Short(char code, std::string_view s) {
  std::string out(1, code);
  out += static_cast<char>(s.size());
  out.append(s);
  return out;
}

Names NamesOf(const std::string& pyc, size_t max = 256) {
  return PycNames(std::span<const char>(pyc.data(), pyc.size()), max);
}

TEST_CASE("PycNames reads short ASCII strings under every code marshal writes them with, in order") {
  const std::string body = std::string("\xe3\x00\x01", 3) + Short('Z', "alpha") + Short('z', "beta") +
                           Short('\xda', "_gamma") + Short('\xfa', "delta2") + "\x29\x02";
  CHECK(NamesOf(Pyc(body)) == Names{"alpha", "beta", "_gamma", "delta2"});
}

TEST_CASE("PycNames keeps identifiers only, once each, and stops at its bound") {
  // A dotted name, a string with a space and one starting with a digit are not module names.
  const std::string body = Short('Z', "os.path") + Short('Z', "a b") + Short('Z', "9lives") +
                           Short('Z', "ok") + Short('\xda', "ok") + Short('Z', "second") +
                           Short('Z', "third");
  CHECK(NamesOf(Pyc(body)) == Names{"ok", "second", "third"});
  CHECK(NamesOf(Pyc(body), 2) == Names{"ok", "second"});
  CHECK(NamesOf(Pyc(body), 0).empty());
}

TEST_CASE("PycNames rejects what is not a pyc and never reads past the end") {
  const std::string body = Short('Z', "alpha");
  CHECK(NamesOf("not a pyc at all, just text " + body).empty());
  CHECK(NamesOf(Pyc(body).substr(0, 10)).empty());  // shorter than a header
  // A length that runs past the end, a zero length, a name longer than 64 bytes.
  CHECK(NamesOf(Pyc(body.substr(0, 5))).empty());
  CHECK(NamesOf(Pyc(std::string("Z\0", 2) + "Z\x01x")) == Names{"x"});
  const std::string long_name(65, 'n');
  CHECK(NamesOf(Pyc(Short('Z', long_name) + Short('Z', "after"))) == Names{"after"});
  CHECK(NamesOf(Pyc(Short('Z', std::string(64, 'n')))) == Names{std::string(64, 'n')});
}

TEST_CASE("IsExtensionModule knows CPython's suffixes from a shared library's") {
  CHECK(IsExtensionModule("_C.cpython-311-x86_64-linux-gnu.so"));
  CHECK(IsExtensionModule("_cffi_backend.abi3.so"));
  CHECK_FALSE(IsExtensionModule("libtorch_cpu.so"));
  CHECK_FALSE(IsExtensionModule("libz.so.1"));
  CHECK_FALSE(IsExtensionModule("module.cpython-311.pyc"));
}

TEST_CASE("IsCompiledInit names a package's compiled __init__ and its tag") {
  std::string_view tag;
  REQUIRE(IsCompiledInit("__init__.cpython-311.pyc", &tag));
  CHECK(tag == "cpython-311");
  REQUIRE(IsCompiledInit("__init__.cpython-311.opt-1.pyc", &tag));
  CHECK(tag == "cpython-311.opt-1");
  CHECK_FALSE(IsCompiledInit("__init__.py", &tag));
  CHECK_FALSE(IsCompiledInit("__init__..pyc", &tag));
  CHECK_FALSE(IsCompiledInit("__init__.pyc", &tag));
  CHECK_FALSE(IsCompiledInit("module.cpython-311.pyc", &tag));
}

}  // namespace
}  // namespace tide::format
