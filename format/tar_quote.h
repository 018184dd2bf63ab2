#ifndef TIDE_FORMAT_TAR_QUOTE_H_
#define TIDE_FORMAT_TAR_QUOTE_H_

#include <string>
#include <string_view>

namespace tide::format {

// Text taken from an archive (names, link targets, PAX values), quoted for an error message or log:
// in single quotes, with control characters, non-ASCII bytes, quotes and backslashes as C escapes,
// so a crafted name cannot drive the terminal that shows the message.
std::string QuoteTarText(std::string_view text);

}  // namespace tide::format

#endif  // TIDE_FORMAT_TAR_QUOTE_H_
