#ifndef TIDE_TIDECTL_PULL_PROGRESS_H_
#define TIDE_TIDECTL_PULL_PROGRESS_H_

#include <cstdint>
#include <cstdio>
#include <string>

#include "pull/lazy_puller.h"

namespace tide::tidectl {

// Renders layer progress: on a terminal the current layer's line is redrawn in place (with bytes
// while downloading); otherwise one plain line per state change, fit for logs.
class PullProgressPrinter {
 public:
  PullProgressPrinter(FILE* out, bool terminal) : out_(out), terminal_(terminal) {}
  void operator()(const pull::LayerProgress& p);

 private:
  FILE* out_;
  bool terminal_;
  size_t line_layer_ = SIZE_MAX;  // layer whose line the cursor is on (terminal mode)
  pull::LayerState last_state_ = pull::LayerState::kPresent;
  bool printed_any_ = false;
};

std::string HumanBytes(int64_t bytes);
// "pulled NAME: 3 layers (2 lazy, 1 applied, 0 present); fetched 1.2 MiB of 40.0 MiB (3.0%)"
std::string PullSummary(const pull::PullResult& result);

}  // namespace tide::tidectl

#endif  // TIDE_TIDECTL_PULL_PROGRESS_H_
