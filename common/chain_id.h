#ifndef TIDE_COMMON_CHAIN_ID_H_
#define TIDE_COMMON_CHAIN_ID_H_

#include <string_view>

#include "common/digest.h"

namespace tide {

// The OCI chainID of a layer on top of `parent_chain_id` (empty for the bottom layer):
// ChainID(L1) = DiffID(L1); ChainID(L1..Ln) = sha256(ChainID(L1..Ln-1) + " " + DiffID(Ln)).
// containerd names committed layers by it, and tide binds a remote snapshot's content to it.
Digest ChainIdOf(std::string_view parent_chain_id, const Digest& diff_id);

}  // namespace tide

#endif  // TIDE_COMMON_CHAIN_ID_H_
