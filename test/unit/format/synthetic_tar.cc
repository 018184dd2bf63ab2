#include "test/unit/format/synthetic_tar.h"

#include <cstring>

#include "format/tar_header.h"

namespace tide::testing {
namespace {

void PutOctal(char* block, format::TarField f, uint64_t value) {
  // f.size - 1 zero-padded octal digits, then NUL (values too large are the test's own mistake).
  for (size_t i = f.size - 1; i-- > 0; value >>= 3)
    block[f.offset + i] = static_cast<char>('0' + (value & 7));
  block[f.offset + f.size - 1] = '\0';
}

void PutString(char* block, format::TarField f, const std::string& s) {
  std::memcpy(block + f.offset, s.data(), std::min(s.size(), f.size));
}

}  // namespace

std::string SyntheticTar::Header(const TarHeaderSpec& spec) {
  std::string block(format::kTarBlockSize, '\0');
  char* b = block.data();
  PutString(b, format::kTarName, spec.name);
  PutOctal(b, format::kTarMode, spec.mode);
  PutOctal(b, format::kTarUid, spec.uid);
  PutOctal(b, format::kTarGid, spec.gid);
  if (spec.base256_size) {
    b[format::kTarSize.offset] = static_cast<char>(0x80);
    for (size_t i = 0; i < 8; ++i) {
      b[format::kTarSize.offset + format::kTarSize.size - 1 - i] =
          static_cast<char>((spec.size >> (8 * i)) & 0xff);
    }
  } else {
    PutOctal(b, format::kTarSize, spec.size);
  }
  PutOctal(b, format::kTarMtime, static_cast<uint64_t>(spec.mtime));
  b[format::kTarTypeflag] = spec.type;
  PutString(b, format::kTarLinkname, spec.linkname);
  std::memcpy(b + format::kTarMagic.offset,
              "ustar\0"
              "00",
              8);
  PutString(b, format::kTarUname, spec.uname);
  PutString(b, format::kTarGname, spec.gname);
  PutOctal(b, format::kTarDevMajor, spec.dev_major);
  PutOctal(b, format::kTarDevMinor, spec.dev_minor);
  format::SetTarChecksum(b);
  return block;
}

std::string SyntheticTar::Pad(uint64_t size) {
  return std::string((format::kTarBlockSize - size % format::kTarBlockSize) % format::kTarBlockSize, '\0');
}

std::string SyntheticTar::Pax(const std::vector<std::pair<std::string, std::string>>& records, char type) {
  std::string body;
  for (const auto& [k, v] : records) {
    size_t base = k.size() + v.size() + 3;  // ' ', '=', '\n'
    size_t len = base + 1;
    while (std::to_string(len).size() + base != len) ++len;
    body += std::to_string(len) + " " + k + "=" + v + "\n";
  }
  TarHeaderSpec spec;
  spec.name = "PaxHeaders/x";
  spec.type = type;
  spec.size = body.size();
  return Header(spec) + body + Pad(body.size());
}

std::string SyntheticTar::GnuLong(char type, const std::string& name) {
  TarHeaderSpec spec;
  spec.name = "././@LongLink";
  spec.type = type;
  spec.size = name.size() + 1;
  std::string body = name + '\0';
  return Header(spec) + body + Pad(body.size());
}

SyntheticTar& SyntheticTar::Raw(const std::string& bytes) {
  data_ += bytes;
  return *this;
}

SyntheticTar& SyntheticTar::Entry(const TarHeaderSpec& spec, const std::string& content) {
  data_ += Header(spec);
  data_ += content;
  data_ += Pad(content.size());
  return *this;
}

SyntheticTar& SyntheticTar::File(const std::string& name, const std::string& content, uint32_t mode) {
  TarHeaderSpec spec;
  spec.name = name;
  spec.mode = mode;
  spec.size = content.size();
  return Entry(spec, content);
}

SyntheticTar& SyntheticTar::Dir(const std::string& name, uint32_t mode) {
  TarHeaderSpec spec;
  spec.name = name;
  spec.type = '5';
  spec.mode = mode;
  return Entry(spec);
}

SyntheticTar& SyntheticTar::Symlink(const std::string& name, const std::string& target) {
  TarHeaderSpec spec;
  spec.name = name;
  spec.type = '2';
  spec.mode = 0777;
  spec.linkname = target;
  return Entry(spec);
}

SyntheticTar& SyntheticTar::Hardlink(const std::string& name, const std::string& target) {
  TarHeaderSpec spec;
  spec.name = name;
  spec.type = '1';
  spec.linkname = target;
  return Entry(spec);
}

std::string SyntheticTar::Finish() const { return data_ + std::string(2 * format::kTarBlockSize, '\0'); }

}  // namespace tide::testing
