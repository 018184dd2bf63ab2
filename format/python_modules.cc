#include "format/python_modules.h"

#include <algorithm>
#include <string_view>

#include "absl/container/flat_hash_set.h"

namespace tide::format {
namespace {

constexpr size_t kHeaderBytes = 16;  // magic, flags, then a source mtime and size or a hash
constexpr size_t kMaxNameBytes = 64;

// Marshal's TYPE_SHORT_ASCII ('z') and TYPE_SHORT_ASCII_INTERNED ('Z'), each also with FLAG_REF.
bool IsShortAsciiCode(unsigned char c) { return (c & 0x7f) == 'z' || (c & 0x7f) == 'Z'; }

bool IsIdentifierStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsIdentifierPart(char c) { return IsIdentifierStart(c) || (c >= '0' && c <= '9'); }

bool IsIdentifier(std::string_view s) {
  return !s.empty() && IsIdentifierStart(s.front()) && std::all_of(s.begin() + 1, s.end(), IsIdentifierPart);
}

}  // namespace

std::vector<std::string> PycNames(std::span<const char> pyc, size_t max_names) {
  std::vector<std::string> names;
  if (pyc.size() < kHeaderBytes || pyc[2] != '\r' || pyc[3] != '\n') return names;
  const std::string_view body(pyc.data() + kHeaderBytes, pyc.size() - kHeaderBytes);
  absl::flat_hash_set<std::string_view> seen;  // views into `pyc`
  for (size_t i = 0; i + 1 < body.size() && names.size() < max_names; ++i) {
    if (!IsShortAsciiCode(static_cast<unsigned char>(body[i]))) continue;
    const size_t length = static_cast<unsigned char>(body[i + 1]);
    if (length == 0 || length > kMaxNameBytes || length > body.size() - i - 2) continue;
    const std::string_view name = body.substr(i + 2, length);
    if (!IsIdentifier(name)) continue;
    if (seen.insert(name).second) names.emplace_back(name);
    i += 1 + length;
  }
  return names;
}

bool IsExtensionModule(std::string_view file_name) {
  return file_name.ends_with(".so") &&
         (file_name.find(".cpython-") != std::string_view::npos || file_name.ends_with(".abi3.so"));
}

bool IsCompiledInit(std::string_view file_name, std::string_view* tag) {
  constexpr std::string_view kPrefix = "__init__.";
  constexpr std::string_view kSuffix = ".pyc";
  if (file_name.size() <= kPrefix.size() + kSuffix.size() || !file_name.starts_with(kPrefix) ||
      !file_name.ends_with(kSuffix)) {
    return false;
  }
  *tag = file_name.substr(kPrefix.size(), file_name.size() - kPrefix.size() - kSuffix.size());
  return true;
}

}  // namespace tide::format
