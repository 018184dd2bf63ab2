#ifndef TIDE_FUSE_READ_OBSERVER_H_
#define TIDE_FUSE_READ_OBSERVER_H_

#include <cstdint>

namespace tide::fuse {

// Told of every read the kernel sends a layer, in arrival order. The filesystem only reports;
// what to keep (startup profiles) is the mounted layer's business, one folder up.
class ReadObserver {
 public:
  virtual ~ReadObserver() = default;
  virtual void OnRead(uint32_t entry_id, uint64_t offset, uint64_t length) = 0;
};

}  // namespace tide::fuse

#endif  // TIDE_FUSE_READ_OBSERVER_H_
