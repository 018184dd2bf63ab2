#include "common/chain_id.h"

#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"

namespace tide {

Digest ChainIdOf(std::string_view parent_chain_id, const Digest& diff_id) {
  if (parent_chain_id.empty()) return diff_id;
  return Digest::Of(absl::StrCat(Sv(parent_chain_id), " ", diff_id.str()));
}

}  // namespace tide
