#ifndef TIDE_COMMON_STRING_VIEW_COMPAT_H_
#define TIDE_COMMON_STRING_VIEW_COMPAT_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace tide {

// Debian 12's abseil is built with ABSL_OPTION_USE_STD_STRING_VIEW=0, so absl::string_view is a type
// of its own and absl::StrCat and friends do not accept std::string_view. Wrap with Sv() at the call.
inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view Sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace tide

#endif  // TIDE_COMMON_STRING_VIEW_COMPAT_H_
