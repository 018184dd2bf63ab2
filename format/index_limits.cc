#include "format/index_limits.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"
#include "format/index_memory_cost.h"
#include "tide/format/v1/layer_index.pb.h"

namespace tide::format {

absl::Status CheckIndexFrameSize(std::string_view what, uint64_t size) {
  if (size != 0 && size <= kMaxIndexFrameSize) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(Sv(what), " has size ", size, ", outside 1..", kMaxIndexFrameSize, " bytes"));
}
namespace {

using google::protobuf::FieldDescriptor;
using Pb = tide::format::v1::LayerIndex;

absl::Status Malformed(std::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat("malformed tide index: ", Sv(reason)));
}

uint64_t ScalarSize(const FieldDescriptor* f) {
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT64:
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return 8;
    default:
      return 4;
  }
}

// Packed varints end in a byte without the continuation bit, so those bytes count the elements.
uint64_t CountVarints(std::string_view packed) {
  return static_cast<uint64_t>(std::count_if(packed.begin(), packed.end(),
                                             [](char c) { return (static_cast<uint8_t>(c) & 0x80) == 0; }));
}

// What the wire format says about the table the loader will build.
struct WireCounts {
  uint64_t bytes = 0;  // the parsed protobuf's own memory
  uint64_t entries = 0;
  uint64_t chunks = 0;
  uint64_t xattrs = 0;
};

void AddElements(const FieldDescriptor* f, uint64_t count, WireCounts* c) {
  // A repeated field grows by doubling while it is parsed.
  c->bytes += 2 * count * ScalarSize(f);
  if (f->number() == Pb::kPathLengthsFieldNumber) c->entries += count;
  if (f->number() == Pb::kChunkCompressedSizesFieldNumber) c->chunks += count;
  if (f->number() == Pb::kXattrKeyLengthsFieldNumber) c->xattrs += count;
}

absl::StatusOr<WireCounts> CountWire(std::string_view pb) {
  const google::protobuf::Descriptor* d = Pb::descriptor();
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(pb.data()),
                                            static_cast<int>(pb.size()));
  WireCounts c;
  while (true) {
    uint32_t tag = in.ReadTag();
    if (tag == 0) break;
    const FieldDescriptor* f = d->FindFieldByNumber(static_cast<int>(tag >> 3));
    const bool repeated_scalar =
        f != nullptr && f->is_repeated() && f->cpp_type() != FieldDescriptor::CPPTYPE_STRING;
    switch (tag & 7) {
      case 0: {
        uint64_t v;
        if (!in.ReadVarint64(&v)) return Malformed("truncated varint");
        if (repeated_scalar)
          AddElements(f, 1, &c);
        else
          c.bytes += 16;  // unknown fields are kept
        break;
      }
      case 1:
      case 5:
        if (!in.Skip((tag & 7) == 1 ? 8 : 4)) return Malformed("truncated fixed field");
        c.bytes += 16;
        break;
      case 2: {
        uint32_t len;
        if (!in.ReadVarint32(&len)) return Malformed("truncated length");
        size_t pos = static_cast<size_t>(in.CurrentPosition());
        if (len > pb.size() - pos) return Malformed("field runs past the end");
        if (repeated_scalar) {
          AddElements(f, CountVarints(pb.substr(pos, len)), &c);
        } else {
          // Strings are held by the protobuf and copied once more into the index (arena, owner names).
          c.bytes += 2 * (uint64_t{len} + sizeof(std::string));
        }
        in.Skip(static_cast<int>(len));
        break;
      }
      default:
        return Malformed("unsupported wire type");
    }
  }
  if (static_cast<size_t>(in.CurrentPosition()) != pb.size()) return Malformed("protobuf does not parse");
  return c;
}

}  // namespace

absl::StatusOr<uint64_t> EstimateIndexMemory(std::string_view pb_bytes) {
  absl::StatusOr<WireCounts> c = CountWire(pb_bytes);
  if (!c.ok()) return c.status();
  return pb_bytes.size() + c->bytes + (c->entries + 1) * kIndexEntryCost + c->chunks * kIndexChunkCost +
         c->xattrs * kIndexXattrCost;
}

}  // namespace tide::format
