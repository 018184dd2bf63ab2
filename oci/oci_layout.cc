#include "oci/oci_layout.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "nlohmann/json.hpp"
#include "oci/json_fields.h"
#include "oci/manifest.h"

namespace tide::oci {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kLayoutFile = R"({"imageLayoutVersion":"1.0.0"})";

absl::StatusOr<std::string> ReadWholeFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(absl::StrCat("cannot open ", path.string(), ": ", std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::InternalError(absl::StrCat("read ", path.string(), " failed"));
  return ss.str();
}

// Exclusive flock on the layout directory for read-modify-write of index.json.
class DirLock {
 public:
  static absl::StatusOr<DirLock> Acquire(const fs::path& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid())
      return absl::InternalError(absl::StrCat("open ", dir.string(), ": ", std::strerror(errno)));
    while (::flock(fd.get(), LOCK_EX) != 0) {
      if (errno != EINTR)
        return absl::InternalError(absl::StrCat("lock ", dir.string(), ": ", std::strerror(errno)));
    }
    DirLock l;
    l.fd_ = std::move(fd);
    return l;
  }

 private:
  UniqueFd fd_;  // closing the fd releases the lock
};

}  // namespace

absl::StatusOr<OciLayout> OciLayout::Open(const fs::path& dir) {
  fs::path marker = dir / "oci-layout";
  auto text = ReadWholeFile(marker);
  if (!text.ok()) {
    return absl::NotFoundError(
        absl::StrCat(dir.string(), " is not an OCI image layout (no readable oci-layout file)"));
  }
  TIDE_ASSIGN_OR_RETURN(nlohmann::json j, ParseJsonObject(*text, marker.string()));
  std::string version;
  TIDE_RETURN_IF_ERROR(ReadString(j, "imageLayoutVersion", marker.string(), &version, Need::kRequired));
  if (version.empty() || version[0] != '1') {
    return absl::InvalidArgumentError(
        absl::StrCat(marker.string(), ": unsupported imageLayoutVersion \"", version, "\""));
  }
  return OciLayout(dir);
}

absl::StatusOr<OciLayout> OciLayout::OpenOrCreate(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir / "blobs" / "sha256", ec);
  if (ec) return absl::InternalError(absl::StrCat("create ", dir.string(), ": ", ec.message()));
  if (!fs::exists(dir / "oci-layout"))
    TIDE_RETURN_IF_ERROR(WriteFileAtomically(dir / "oci-layout", kLayoutFile));
  if (!fs::exists(dir / "index.json")) {
    TIDE_ASSIGN_OR_RETURN(auto lock, DirLock::Acquire(dir));
    if (!fs::exists(dir / "index.json")) {
      Index empty;
      TIDE_RETURN_IF_ERROR(WriteFileAtomically(dir / "index.json", empty.Serialize()));
    }
  }
  return Open(dir);
}

fs::path OciLayout::BlobPath(const Digest& digest) const {
  return dir_ / "blobs" / "sha256" / std::string(digest.hex());
}

bool OciLayout::HasBlob(const Digest& digest) const {
  std::error_code ec;
  return fs::is_regular_file(BlobPath(digest), ec);
}

absl::StatusOr<std::string> OciLayout::ReadBlob(const Digest& digest, std::optional<int64_t> size) const {
  auto data = ReadWholeFile(BlobPath(digest));
  if (!data.ok())
    return absl::NotFoundError(absl::StrCat("blob ", digest.str(), " missing from ", dir_.string()));
  if (size && static_cast<int64_t>(data->size()) != *size) {
    return absl::DataLossError(absl::StrCat("blob ", digest.str(), " in ", dir_.string(), " has ",
                                            data->size(), " bytes, descriptor says ", *size));
  }
  Digest actual = Digest::Of(*data);
  if (actual != digest) {
    return absl::DataLossError(absl::StrCat("blob ", digest.str(), " in ", dir_.string(),
                                            " fails verification: content is ", actual.str()));
  }
  return data;
}

absl::StatusOr<UniqueFd> OciLayout::OpenBlob(const Digest& digest) const {
  fs::path p = BlobPath(digest);
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return absl::NotFoundError(
        absl::StrCat("blob ", digest.str(), " missing from ", dir_.string(), ": ", std::strerror(errno)));
  }
  return fd;
}

absl::StatusOr<Digest> OciLayout::WriteBlob(std::string_view data) {
  TIDE_ASSIGN_OR_RETURN(BlobWriter w, NewBlobWriter());
  TIDE_RETURN_IF_ERROR(w.Write(data));
  return w.Commit();
}

absl::StatusOr<Index> OciLayout::ReadIndex() const {
  fs::path p = dir_ / "index.json";
  TIDE_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(p));
  return Index::Parse(text, p.string());
}

absl::Status OciLayout::WriteIndex(const Index& index) {
  return WriteFileAtomically(dir_ / "index.json", index.Serialize());
}

absl::StatusOr<Descriptor> OciLayout::Resolve(std::string_view tag) const {
  TIDE_ASSIGN_OR_RETURN(Index idx, ReadIndex());
  if (tag.empty()) {
    std::erase_if(idx.manifests, [](const Descriptor& d) { return !d.artifact_type.empty(); });
    if (idx.manifests.size() == 1) return idx.manifests[0];
    return absl::InvalidArgumentError(absl::StrCat(dir_.string(), ": no tag given and index.json has ",
                                                   idx.manifests.size(), " images (want exactly 1)"));
  }
  for (const Descriptor& d : idx.manifests) {
    auto it = d.annotations.find(std::string(kRefNameAnnotation));
    if (it != d.annotations.end() && it->second == tag) return d;
  }
  return absl::NotFoundError(absl::StrCat(dir_.string(), ": no image tagged \"", Sv(tag), "\""));
}

absl::Status OciLayout::SetTag(std::string_view tag, Descriptor desc) {
  if (tag.empty()) return absl::InvalidArgumentError("empty tag");
  if (!HasBlob(desc.digest)) {
    return absl::FailedPreconditionError(absl::StrCat("refusing to tag ", desc.digest.str(), " as \"",
                                                      Sv(tag), "\": blob not in ", dir_.string()));
  }
  TIDE_ASSIGN_OR_RETURN(auto lock, DirLock::Acquire(dir_));
  TIDE_ASSIGN_OR_RETURN(Index idx, ReadIndex());
  std::erase_if(idx.manifests, [&](const Descriptor& d) {
    auto it = d.annotations.find(std::string(kRefNameAnnotation));
    return it != d.annotations.end() && it->second == tag;
  });
  desc.annotations[std::string(kRefNameAnnotation)] = std::string(tag);
  idx.manifests.push_back(std::move(desc));
  return WriteIndex(idx);
}

absl::StatusOr<std::vector<Descriptor>> OciLayout::Referrers(const Digest& subject,
                                                             std::string_view artifact_type) const {
  TIDE_ASSIGN_OR_RETURN(Index idx, ReadIndex());
  std::vector<Descriptor> found;
  for (const Descriptor& d : idx.manifests) {
    if (d.artifact_type != artifact_type) continue;
    // Manifests are small; a referrer entry whose blob is missing or malformed is not ours to judge.
    auto bytes = ReadBlob(d.digest, d.size);
    if (!bytes.ok()) continue;
    auto m = Manifest::Parse(*bytes, d.digest.str());
    if (m.ok() && m->subject && m->subject->digest == subject) found.push_back(d);
  }
  return found;
}

absl::Status OciLayout::AddReferrer(const Descriptor& artifact, const Digest& subject) {
  if (artifact.artifact_type.empty())
    return absl::InvalidArgumentError(
        absl::StrCat("referrer ", artifact.digest.str(), " has no artifactType"));
  if (!HasBlob(artifact.digest)) {
    return absl::FailedPreconditionError(
        absl::StrCat("refusing to list referrer ", artifact.digest.str(), ": blob not in ", dir_.string()));
  }
  TIDE_ASSIGN_OR_RETURN(auto lock, DirLock::Acquire(dir_));
  TIDE_ASSIGN_OR_RETURN(std::vector<Descriptor> earlier, Referrers(subject, artifact.artifact_type));
  TIDE_ASSIGN_OR_RETURN(Index idx, ReadIndex());
  std::erase_if(idx.manifests, [&](const Descriptor& d) {
    return std::any_of(earlier.begin(), earlier.end(),
                       [&](const Descriptor& e) { return e.digest == d.digest && d.annotations.empty(); });
  });
  idx.manifests.push_back(artifact);
  return WriteIndex(idx);
}

std::vector<std::string> OciLayout::Tags() const {
  std::vector<std::string> tags;
  auto idx = ReadIndex();
  if (!idx.ok()) return tags;
  for (const Descriptor& d : idx->manifests) {
    auto it = d.annotations.find(std::string(kRefNameAnnotation));
    if (it != d.annotations.end()) tags.push_back(it->second);
  }
  return tags;
}

}  // namespace tide::oci
