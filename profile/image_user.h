#ifndef TIDE_PROFILE_IMAGE_USER_H_
#define TIDE_PROFILE_IMAGE_USER_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tide::profile {

// The ids a workload runs with, as a container runtime derives them from the image config's
// User and the image's /etc/passwd and /etc/group.
struct ImageUser {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary: the groups of /etc/group that list the user
  std::string home = "/";     // for HOME when the image's Env has none
};

// Resolves `user` ("" for root, "name", "uid", "name:group", "uid:gid", ...) against the image root
// `root_fd` the way runc does: a name must be in /etc/passwd, a numeric uid need not be (gid 0
// then), a group name must be in /etc/group. Both files are read inside the image root
// (symlinks stay in it), only when regular files and at most 4 MiB each; without a user name to
// look up, missing or unusable files do not matter.
absl::StatusOr<ImageUser> ResolveImageUser(int root_fd, const std::string& user);

}  // namespace tide::profile

#endif  // TIDE_PROFILE_IMAGE_USER_H_
