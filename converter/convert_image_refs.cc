#include "converter/convert_image_refs.h"

#include <unistd.h>

#include <chrono>
#include <memory>

#include "common/status_macros.h"
#include "converter/progress.h"

namespace tide::converter {

absl::StatusOr<ImageRefConversion> ConvertImageRefs(const ImageRef& source, const ImageRef& destination,
                                                    const RegistryFlags& registry, ConvertOptions options,
                                                    bool quiet) {
  ImageEndpoints endpoints(registry);
  TIDE_ASSIGN_OR_RETURN(std::unique_ptr<ImageSource> src, endpoints.OpenSource(source));
  TIDE_ASSIGN_OR_RETURN(std::unique_ptr<ImageDestination> dst,
                        endpoints.OpenDestination(destination, src->Tag()));
  Progress::Options progress_options;
  progress_options.terminal = ::isatty(STDERR_FILENO) == 1;
  progress_options.quiet = quiet;
  auto progress = std::make_unique<Progress>(progress_options);
  options.progress = progress.get();
  auto start = std::chrono::steady_clock::now();
  auto summary = ConvertImage(*src, *dst, options);
  progress.reset();  // its final redraw comes before whatever the caller prints next
  if (!summary.ok()) return summary.status();
  ImageRefConversion done;
  done.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  done.source = src->Describe();
  done.destination = dst->Describe();
  done.summary = *std::move(summary);
  return done;
}

}  // namespace tide::converter
