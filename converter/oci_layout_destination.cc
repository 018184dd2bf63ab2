#include "converter/oci_layout_destination.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"
#include "common/status_macros.h"

namespace tide::converter {

namespace {

namespace fs = std::filesystem;

class LayoutLayerOutput final : public LayerOutput {
 public:
  explicit LayoutLayerOutput(oci::BlobWriter writer) : writer_(std::move(writer)) {}
  absl::Status Write(std::string_view data) override { return writer_.Write(data); }
  absl::Status Commit(const Digest& digest) override { return writer_.Commit(digest).status(); }

 private:
  oci::BlobWriter writer_;
};

enum class Existing { kNothing, kEmptyDir, kLayout };

absl::StatusOr<Existing> WhatIsAt(const fs::path& dir) {
  std::error_code ec;
  fs::file_status st = fs::symlink_status(dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return absl::InternalError(absl::StrCat("stat ", dir.string(), ": ", ec.message()));
  }
  if (!fs::exists(st)) return Existing::kNothing;
  // A symlink to a layout is followed like any path; one to nowhere is not a layout.
  if (fs::is_directory(dir, ec) && fs::exists(dir / "oci-layout", ec)) return Existing::kLayout;
  if (fs::is_directory(dir, ec) && fs::is_empty(dir, ec) && !ec) return Existing::kEmptyDir;
  return absl::FailedPreconditionError(
      absl::StrCat("destination ", dir.string(),
                   " exists and is not an OCI image layout (no oci-layout file); refusing to "
                   "write into it"));
}

absl::StatusOr<fs::path> MakeStagingDir(const fs::path& dir) {
  fs::path parent = dir.has_parent_path() ? dir.parent_path() : ".";
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return absl::InternalError(absl::StrCat("create ", parent.string(), ": ", ec.message()));
  std::string tmpl = (parent / absl::StrCat(".", dir.filename().string(), ".tidectl-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("create staging directory for ", dir.string(), ": ", std::strerror(errno)));
  }
  ::chmod(tmpl.c_str(), 0755);  // mkdtemp's 0700 is for the name race, not the result
  return fs::path(tmpl);
}

}  // namespace

absl::StatusOr<std::unique_ptr<OciLayoutDestination>> OciLayoutDestination::Open(const std::string& dir,
                                                                                 const std::string& tag) {
  fs::path target = fs::path(dir).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();  // "out/" names "out"
  TIDE_ASSIGN_OR_RETURN(Existing existing, WhatIsAt(target));
  if (existing == Existing::kLayout) {
    TIDE_ASSIGN_OR_RETURN(oci::OciLayout layout, oci::OciLayout::OpenOrCreate(target));
    return std::unique_ptr<OciLayoutDestination>(
        new OciLayoutDestination(std::move(layout), target, tag, false, false));
  }
  TIDE_ASSIGN_OR_RETURN(fs::path staging, MakeStagingDir(target));
  auto layout = oci::OciLayout::OpenOrCreate(staging);
  if (!layout.ok()) {
    std::error_code ec;
    fs::remove_all(staging, ec);
    return layout.status();
  }
  return std::unique_ptr<OciLayoutDestination>(
      new OciLayoutDestination(std::move(*layout), target, tag, true, existing == Existing::kEmptyDir));
}

OciLayoutDestination::~OciLayoutDestination() {
  if (!staged_) return;
  std::error_code ec;
  fs::remove_all(layout_.dir(), ec);
}

std::string OciLayoutDestination::Describe() const { return absl::StrCat("oci:", dir_.string(), ":", tag_); }

absl::StatusOr<std::unique_ptr<LayerOutput>> OciLayoutDestination::NewLayer() {
  TIDE_ASSIGN_OR_RETURN(oci::BlobWriter w, layout_.NewBlobWriter());
  return std::unique_ptr<LayerOutput>(new LayoutLayerOutput(std::move(w)));
}

absl::Status OciLayoutDestination::PutBlob(const oci::Descriptor& desc, std::string_view bytes) {
  TIDE_ASSIGN_OR_RETURN(oci::BlobWriter w, layout_.NewBlobWriter());
  TIDE_RETURN_IF_ERROR(w.Write(bytes));
  return w.Commit(desc.digest).status();
}

absl::Status OciLayoutDestination::PutManifest(const oci::Descriptor& desc, std::string_view bytes) {
  return PutBlob(desc, bytes);
}

absl::Status OciLayoutDestination::Publish(const oci::Descriptor& root, std::string_view bytes) {
  TIDE_RETURN_IF_ERROR(PutBlob(root, bytes));
  TIDE_RETURN_IF_ERROR(layout_.SetTag(tag_, root));
  return staged_ ? MoveIntoPlace() : absl::OkStatus();
}

absl::Status OciLayoutDestination::MoveIntoPlace() {
  const fs::path staging = layout_.dir();
  // Blobs and index.json are synced one by one; their directory entries go with these.
  for (const fs::path& d : {staging / "blobs" / "sha256", staging / "blobs", staging}) {
    TIDE_RETURN_IF_ERROR(SyncDirectory(d));
  }
  // An empty directory is replaced in one step; rename() fails if anything was put into it since.
  // Otherwise nothing may have appeared at dir_ in the meantime: never replace what is there.
  int rc = replaces_empty_dir_
               ? ::rename(staging.c_str(), dir_.c_str())
               : ::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, dir_.c_str(), RENAME_NOREPLACE);
  if (rc != 0 && errno == EINVAL && !replaces_empty_dir_) {
    // A file system without RENAME_NOREPLACE: check, then rename (only a racing writer can lose).
    std::error_code ec;
    if (fs::exists(fs::symlink_status(dir_, ec))) {
      errno = EEXIST;
    } else {
      rc = ::rename(staging.c_str(), dir_.c_str());
    }
  }
  if (rc != 0) {
    bool taken = errno == EEXIST || errno == ENOTEMPTY;
    return absl::FailedPreconditionError(
        absl::StrCat("move the converted layout to ", dir_.string(), ": ", std::strerror(errno),
                     taken ? " (something else was put there meanwhile)" : ""));
  }
  staged_ = false;
  TIDE_ASSIGN_OR_RETURN(layout_, oci::OciLayout::Open(dir_));
  return SyncDirectory(dir_.has_parent_path() ? dir_.parent_path() : ".");
}

}  // namespace tide::converter
