#include "format/tar_quote.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"

namespace tide::format {

std::string QuoteTarText(std::string_view text) { return absl::StrCat("'", absl::CHexEscape(Sv(text)), "'"); }

}  // namespace tide::format
