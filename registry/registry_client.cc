#include "registry/registry_client.h"

#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "oci/index.h"
#include "oci/media_types.h"
#include "registry/blob_range_reader.h"
#include "registry/client_core.h"
#include "registry/content_range.h"

namespace tide::registry {
namespace {

constexpr const char* kManifestAccept =
    "Accept: application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

bool ParseI64(std::string_view s, int64_t& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && out >= 0;
}

std::string MediaTypeOf(const HttpResponse& resp, const std::string& body) {
  std::string type(resp.Header("content-type"));
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  if (!type.empty() && type != "application/json" && type != "text/plain" &&
      type != "application/octet-stream") {
    return type;
  }
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object()) {
    if (j.contains("mediaType") && j["mediaType"].is_string()) return j["mediaType"].get<std::string>();
    if (j.contains("manifests")) return std::string(oci::kOciIndex);
    if (j.contains("layers")) return std::string(oci::kOciManifest);
  }
  return type;
}

// Streams a blob into a sink, hashing as it goes; survives resumption with Range after an
// interrupted transfer and servers that answer a resume with the whole blob again.
class BlobHandler : public ResponseHandler {
 public:
  BlobHandler(const BlobSink& sink, int64_t size, const std::string* what)
      : sink_(sink), size_(size), what_(what) {}

  absl::Status OnHeaders(const HttpResponse& head) override {
    skip_ = 0;
    if (head.status == 206) {
      std::string_view cr = head.Header("content-range");
      std::optional<ContentRange> range = ParseContentRange(cr);
      if (!range || range->first != delivered_) {
        return absl::DataLossError(
            absl::StrCat(*what_, ": resume at ", delivered_, " got Content-Range \"", Sv(cr), "\""));
      }
    } else {
      skip_ = delivered_;  // the whole blob again: drop what the sink already has
    }
    return absl::OkStatus();
  }

  absl::Status OnData(std::string_view data) override {
    uint64_t drop = std::min<uint64_t>(skip_, data.size());
    skip_ -= drop;
    data.remove_prefix(drop);
    if (data.empty()) return absl::OkStatus();
    if (size_ >= 0 && delivered_ + data.size() > static_cast<uint64_t>(size_)) {
      return absl::DataLossError(absl::StrCat(*what_, ": more than the expected ", size_, " bytes"));
    }
    hasher_.Update(data);
    delivered_ += data.size();
    return sink_(data);
  }

  void AddRange(std::vector<std::string>& headers) const {
    if (delivered_ > 0) headers.push_back(absl::StrCat("Range: bytes=", delivered_, "-"));
  }
  uint64_t delivered() const { return delivered_; }
  Digest Finish() { return Digest::FromSha256(hasher_.Finish()); }

 private:
  const BlobSink& sink_;
  int64_t size_;
  const std::string* what_;
  Sha256 hasher_;
  uint64_t delivered_ = 0;
  uint64_t skip_ = 0;
};

struct UploadSource {
  std::string_view bytes;
  std::string path;
  uint64_t size = 0;

  void SetBody(RegistryCall& call, uint64_t offset, uint64_t length) const {
    if (path.empty()) {
      call.body = bytes.substr(offset, length);
    } else {
      call.body_file = path;
      call.body_file_offset = offset;
      call.body_file_length = length;
    }
  }
};

std::string AppendQuery(std::string url, std::string_view param) {
  absl::StrAppend(&url, url.find('?') == std::string::npos ? "?" : "&", Sv(param));
  return url;
}

std::string ResolveAgainst(const std::string& base, std::string_view location) {
  if (location.starts_with("http://") || location.starts_with("https://")) return std::string(location);
  size_t scheme = base.find("://");
  size_t path = base.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return absl::StrCat(base.substr(0, path), Sv(location));
}

}  // namespace

absl::StatusOr<oci::Descriptor> SelectPlatform(const std::vector<oci::Descriptor>& manifests,
                                               const oci::Platform& platform, std::string_view context) {
  std::vector<std::string> seen;
  for (const oci::Descriptor& d : manifests) {
    if (d.platform && d.platform->Matches(platform)) return d;
    if (d.platform) seen.push_back(d.platform->ToString());
  }
  return absl::NotFoundError(absl::StrCat(Sv(context), " has no manifest for platform ", platform.ToString(),
                                          " (it has: ", absl::StrJoin(seen, ", "), ")"));
}

RegistryClient::RegistryClient(std::shared_ptr<ClientCore> core) : core_(std::move(core)) {}
RegistryClient::~RegistryClient() = default;

absl::StatusOr<std::unique_ptr<RegistryClient>> RegistryClient::Create(const RegistryClientOptions& options) {
  TIDE_ASSIGN_OR_RETURN(std::shared_ptr<ClientCore> core, ClientCore::Create(options));
  return std::unique_ptr<RegistryClient>(new RegistryClient(std::move(core)));
}

namespace {

absl::StatusOr<FetchedManifest> FetchManifestFrom(ClientCore& core, const RegistryHost& host,
                                                  const Reference& ref, bool has_fallback) {
  RegistryCall call;
  call.has_fallback = has_fallback;
  call.url = ClientCore::RepoUrl(host, ref.repository(), absl::StrCat("/manifests/", ref.ObjectName()));
  call.headers = {kManifestAccept};
  call.scopes = {RepositoryScope(ref.repository(), false)};
  call.what = absl::StrCat("repository ", ref.repository(), " manifest ", ref.ObjectName());
  TIDE_ASSIGN_OR_RETURN(HttpResponse resp, core.Execute(host, call));
  if (resp.status != 200) return ClientCore::HttpError(host, call, resp);
  size_t limit = core.options().max_manifest_bytes;
  if (resp.body.size() > limit || resp.body_truncated_by_cap) {
    return absl::ResourceExhaustedError(
        absl::StrCat(host.host, " ", call.what, ": manifest larger than the ", limit, "-byte limit"));
  }
  FetchedManifest m;
  m.digest = Digest::Of(resp.body);
  if (ref.digest() && *ref.digest() != m.digest) {
    return absl::DataLossError(
        absl::StrCat(host.host, " ", call.what, ": content has digest ", m.digest.str()));
  }
  if (std::string_view header = resp.Header("docker-content-digest"); !ref.digest() && !header.empty()) {
    auto claimed = Digest::Parse(header);
    if (claimed.ok() && *claimed != m.digest) {
      return absl::DataLossError(absl::StrCat(host.host, " ", call.what, ": Docker-Content-Digest ",
                                              claimed->str(), " but content has digest ", m.digest.str()));
    }
  }
  m.media_type = MediaTypeOf(resp, resp.body);
  m.bytes = std::move(resp.body);
  return m;
}

}  // namespace

absl::StatusOr<oci::Descriptor> RegistryClient::Resolve(const Reference& ref) {
  unsigned cap = ref.digest() ? kCapPull : kCapResolve;
  ClientCore& core = *core_;
  return core.OnHosts<oci::Descriptor>(
      ref.registry(), cap,
      [&](const RegistryHost& host, bool has_fallback) -> absl::StatusOr<oci::Descriptor> {
        RegistryCall call;
        call.has_fallback = has_fallback;
        call.method = "HEAD";
        call.url = ClientCore::RepoUrl(host, ref.repository(), absl::StrCat("/manifests/", ref.ObjectName()));
        call.headers = {kManifestAccept};
        call.scopes = {RepositoryScope(ref.repository(), false)};
        call.what = absl::StrCat("repository ", ref.repository(), " manifest ", ref.ObjectName());
        TIDE_ASSIGN_OR_RETURN(HttpResponse resp, core.Execute(host, call));
        if (resp.status == 404) return ClientCore::HttpError(host, call, resp);
        if (resp.status == 200) {
          auto digest = Digest::Parse(resp.Header("docker-content-digest"));
          std::string type(resp.Header("content-type"));
          type = type.substr(0, type.find(';'));
          int64_t size = 0;
          if (digest.ok() && !type.empty() && type != "application/json" &&
              ParseI64(resp.Header("content-length"), size)) {
            if (ref.digest() && *ref.digest() != *digest) {
              return absl::DataLossError(
                  absl::StrCat(host.host, " ", call.what, ": registry reports digest ", digest->str()));
            }
            oci::Descriptor d;
            d.media_type = type;
            d.digest = *digest;
            d.size = size;
            return d;
          }
        }
        // HEAD was not conclusive (no digest header, or not allowed): fetch and hash.
        TIDE_ASSIGN_OR_RETURN(FetchedManifest m, FetchManifestFrom(core, host, ref, has_fallback));
        oci::Descriptor d;
        d.media_type = m.media_type;
        d.digest = m.digest;
        d.size = static_cast<int64_t>(m.bytes.size());
        return d;
      });
}

absl::StatusOr<FetchedManifest> RegistryClient::FetchManifest(const Reference& ref) {
  unsigned cap = ref.digest() ? kCapPull : kCapResolve;
  return core_->OnHosts<FetchedManifest>(ref.registry(), cap,
                                         [&](const RegistryHost& host, bool has_fallback) {
                                           return FetchManifestFrom(*core_, host, ref, has_fallback);
                                         });
}

absl::StatusOr<FetchedManifest> RegistryClient::FetchManifest(const Reference& repo, const Digest& digest) {
  return FetchManifest(repo.WithDigest(digest));
}

absl::StatusOr<oci::Descriptor> RegistryClient::ResolvePlatformManifest(const Reference& ref,
                                                                        const oci::Platform& platform) {
  TIDE_ASSIGN_OR_RETURN(FetchedManifest m, FetchManifest(ref));
  if (oci::IsIndex(m.media_type)) {
    std::string context = absl::StrCat("index ", ref.String());
    TIDE_ASSIGN_OR_RETURN(oci::Index index, oci::Index::Parse(m.bytes, context));
    return SelectPlatform(index.manifests, platform, context);
  }
  oci::Descriptor d;
  d.media_type = m.media_type;
  d.digest = m.digest;
  d.size = static_cast<int64_t>(m.bytes.size());
  return d;
}

absl::Status RegistryClient::FetchBlob(const Reference& repo, const Digest& digest, const BlobSink& sink,
                                       int64_t size) {
  std::string what = absl::StrCat("repository ", repo.repository(), " blob ", digest.str());
  BlobHandler handler(sink, size, &what);
  ClientCore& core = *core_;
  auto r = core.OnHosts<bool>(
      repo.registry(), kCapPull, [&](const RegistryHost& host, bool has_fallback) -> absl::StatusOr<bool> {
        RegistryCall call;
        call.has_fallback = has_fallback;
        call.url = ClientCore::RepoUrl(host, repo.repository(), absl::StrCat("/blobs/", digest.str()));
        call.scopes = {RepositoryScope(repo.repository(), false)};
        call.handler = &handler;
        call.what = what;
        call.per_attempt = [&handler](std::vector<std::string>& headers) { handler.AddRange(headers); };
        TIDE_ASSIGN_OR_RETURN(HttpResponse resp, core.Execute(host, call));
        if (resp.status != 200 && resp.status != 206) return ClientCore::HttpError(host, call, resp);
        return true;
      });
  if (!r.ok()) return r.status();
  if (size >= 0 && handler.delivered() != static_cast<uint64_t>(size)) {
    return absl::DataLossError(absl::StrCat(what, ": got ", handler.delivered(), " bytes, expected ", size));
  }
  Digest got = handler.Finish();
  if (got != digest) return absl::DataLossError(absl::StrCat(what, ": content has digest ", got.str()));
  return absl::OkStatus();
}

absl::StatusOr<std::string> RegistryClient::FetchBlobBytes(const Reference& repo, const Digest& digest,
                                                           int64_t size) {
  std::string out;
  if (size > 0) out.reserve(static_cast<size_t>(size));
  TIDE_RETURN_IF_ERROR(FetchBlob(
      repo, digest,
      [&out](std::string_view data) {
        out.append(data);
        return absl::OkStatus();
      },
      size));
  return out;
}

absl::StatusOr<std::string> RegistryClient::ReadBlobRange(const Reference& repo, const Digest& digest,
                                                          uint64_t offset, uint64_t length) {
  std::string out(length, '\0');
  TIDE_RETURN_IF_ERROR(core_->ReadRangeInto(repo, digest, offset, std::span<char>(out.data(), out.size())));
  return out;
}

absl::StatusOr<std::vector<std::string>> RegistryClient::ReadBlobRanges(const Reference& repo,
                                                                        const Digest& digest,
                                                                        std::span<const ByteRange> ranges) {
  std::vector<std::string> out(ranges.size());
  std::vector<std::span<char>> spans(ranges.size());
  for (size_t i = 0; i < ranges.size(); ++i) {
    out[i].resize(ranges[i].length);
    spans[i] = std::span<char>(out[i].data(), out[i].size());
  }
  TIDE_RETURN_IF_ERROR(core_->ReadRangesInto(repo, digest, ranges, spans));
  return out;
}

absl::StatusOr<std::unique_ptr<BlobRangeReader>> RegistryClient::OpenBlob(const Reference& repo,
                                                                          const Digest& digest,
                                                                          int64_t size) {
  if (size < 0) {
    TIDE_ASSIGN_OR_RETURN(size, StatBlob(repo, digest));
  }
  return std::make_unique<BlobRangeReader>(core_, repo, digest, static_cast<uint64_t>(size));
}

absl::StatusOr<int64_t> RegistryClient::StatBlob(const Reference& repo, const Digest& digest) {
  ClientCore& core = *core_;
  return core.OnHosts<int64_t>(
      repo.registry(), kCapPull, [&](const RegistryHost& host, bool has_fallback) -> absl::StatusOr<int64_t> {
        RegistryCall call;
        call.has_fallback = has_fallback;
        call.method = "HEAD";
        call.url = ClientCore::RepoUrl(host, repo.repository(), absl::StrCat("/blobs/", digest.str()));
        call.scopes = {RepositoryScope(repo.repository(), false)};
        call.what = absl::StrCat("repository ", repo.repository(), " blob ", digest.str());
        TIDE_ASSIGN_OR_RETURN(HttpResponse resp, core.Execute(host, call));
        if (resp.status != 200) return ClientCore::HttpError(host, call, resp);
        int64_t size = 0;
        if (!ParseI64(resp.Header("content-length"), size)) {
          return absl::UnknownError(
              absl::StrCat(host.host, " ", call.what, ": HEAD reply has no Content-Length"));
        }
        return size;
      });
}

absl::StatusOr<bool> RegistryClient::BlobExists(const Reference& repo, const Digest& digest) {
  auto size = StatBlob(repo, digest);
  if (size.ok()) return true;
  if (absl::IsNotFound(size.status())) return false;
  return size.status();
}

namespace {

absl::StatusOr<PushOutcome> Upload(ClientCore& core, const RegistryHost& host, const Reference& repo,
                                   const Digest& digest, const UploadSource& source,
                                   const PushBlobOptions& options, const std::string& what,
                                   const Scopes& scopes);

absl::StatusOr<PushOutcome> PushTo(ClientCore& core, const RegistryHost& host, const Reference& repo,
                                   const Digest& digest, const UploadSource& source,
                                   const PushBlobOptions& options) {
  std::string what = absl::StrCat("repository ", repo.repository(), " blob ", digest.str());
  Scopes scopes = {RepositoryScope(repo.repository(), true)};
  {
    RegistryCall head;
    head.method = "HEAD";
    head.url = ClientCore::RepoUrl(host, repo.repository(), absl::StrCat("/blobs/", digest.str()));
    head.scopes = scopes;
    head.what = what;
    TIDE_ASSIGN_OR_RETURN(HttpResponse resp, core.Execute(host, head));
    if (resp.status == 200) return PushOutcome::kAlreadyExists;
    if (resp.status != 404) return ClientCore::HttpError(host, head, resp);
  }
  // A PATCH retried after the registry kept part of it fails (416 or 5xx); a fresh upload session
  // is the reliable way on, so an upload that broke midway is started over once.
  auto upload = Upload(core, host, repo, digest, source, options, what, scopes);
  if (upload.ok() || !(absl::IsUnavailable(upload.status()) || absl::IsOutOfRange(upload.status()) ||
                       absl::IsUnknown(upload.status()))) {
    return upload;
  }
  return Upload(core, host, repo, digest, source, options, what, scopes);
}

absl::StatusOr<PushOutcome> Upload(ClientCore& core, const RegistryHost& host, const Reference& repo,
                                   const Digest& digest, const UploadSource& source,
                                   const PushBlobOptions& options, const std::string& what,
                                   const Scopes& scopes) {
  RegistryCall start;
  start.method = "POST";
  start.what = what;
  start.scopes = scopes;
  std::string suffix = "/blobs/uploads/";
  if (!options.mount_from.empty()) {
    absl::StrAppend(&suffix, "?mount=", digest.str(), "&from=", options.mount_from);
    start.scopes.push_back(RepositoryScope(options.mount_from, false));
  }
  start.url = ClientCore::RepoUrl(host, repo.repository(), suffix);
  TIDE_ASSIGN_OR_RETURN(HttpResponse started, core.Execute(host, start));
  if (started.status == 201 && !options.mount_from.empty()) return PushOutcome::kMounted;
  if (started.status != 202 || started.Header("location").empty()) {
    return ClientCore::HttpError(host, start, started);
  }
  std::string location = ResolveAgainst(start.url, started.Header("location"));
  uint64_t chunk = options.chunk_size == 0 ? source.size : options.chunk_size;
  uint64_t offset = 0;
  while (chunk < source.size && offset < source.size) {
    uint64_t length = std::min(chunk, source.size - offset);
    RegistryCall patch;
    patch.method = "PATCH";
    patch.url = location;
    patch.scopes = scopes;
    patch.what = absl::StrCat(what, " chunk at ", offset);
    patch.headers = {"Content-Type: application/octet-stream",
                     absl::StrCat("Content-Range: ", offset, "-", offset + length - 1)};
    source.SetBody(patch, offset, length);
    TIDE_ASSIGN_OR_RETURN(HttpResponse resp, core.Execute(host, patch));
    if (resp.status != 202 || resp.Header("location").empty())
      return ClientCore::HttpError(host, patch, resp);
    location = ResolveAgainst(location, resp.Header("location"));
    offset += length;
  }
  RegistryCall put;
  put.method = "PUT";
  put.url = AppendQuery(location, absl::StrCat("digest=", digest.str()));
  put.scopes = scopes;
  put.what = what;
  put.headers = {"Content-Type: application/octet-stream"};
  if (offset < source.size) source.SetBody(put, offset, source.size - offset);
  TIDE_ASSIGN_OR_RETURN(HttpResponse done, core.Execute(host, put));
  if (done.status != 201) return ClientCore::HttpError(host, put, done);
  return PushOutcome::kUploaded;
}

absl::StatusOr<Digest> DigestOfFile(const std::string& path, uint64_t& size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read blob file ", path));
  Sha256 hasher;
  std::vector<char> buf(1 << 20);
  size = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    std::streamsize n = in.gcount();
    if (n <= 0) break;
    hasher.Update(buf.data(), static_cast<size_t>(n));
    size += static_cast<uint64_t>(n);
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat("error reading blob file ", path));
  return Digest::FromSha256(hasher.Finish());
}

}  // namespace

absl::StatusOr<PushOutcome> RegistryClient::PushBlob(const Reference& repo, const Digest& digest,
                                                     std::string_view bytes, const PushBlobOptions& options) {
  if (Digest::Of(bytes) != digest) {
    return absl::InvalidArgumentError(
        absl::StrCat("push to ", repo.repository(), ": bytes do not match digest ", digest.str()));
  }
  UploadSource source{.bytes = bytes, .path = "", .size = bytes.size()};
  return core_->OnHosts<PushOutcome>(repo.registry(), kCapPush, [&](const RegistryHost& host) {
    return PushTo(*core_, host, repo, digest, source, options);
  });
}

absl::StatusOr<PushOutcome> RegistryClient::PushBlobFile(const Reference& repo, const Digest& digest,
                                                         const std::string& path,
                                                         const PushBlobOptions& options) {
  uint64_t size = 0;
  TIDE_ASSIGN_OR_RETURN(Digest actual, DigestOfFile(path, size));
  if (actual != digest) {
    return absl::InvalidArgumentError(absl::StrCat("push to ", repo.repository(), ": file ", path,
                                                   " does not match digest ", digest.str()));
  }
  UploadSource source{.bytes = {}, .path = path, .size = size};
  return core_->OnHosts<PushOutcome>(repo.registry(), kCapPush, [&](const RegistryHost& host) {
    return PushTo(*core_, host, repo, digest, source, options);
  });
}

absl::StatusOr<Digest> RegistryClient::PushManifest(const Reference& ref, std::string_view bytes,
                                                    std::string_view media_type) {
  Digest digest = Digest::Of(bytes);
  if (ref.digest() && *ref.digest() != digest) {
    return absl::InvalidArgumentError(
        absl::StrCat("push manifest ", ref.String(), ": bytes have digest ", digest.str()));
  }
  std::string object = ref.tag().empty() ? digest.str() : ref.tag();
  ClientCore& core = *core_;
  return core.OnHosts<Digest>(
      ref.registry(), kCapPush, [&](const RegistryHost& host) -> absl::StatusOr<Digest> {
        RegistryCall call;
        call.method = "PUT";
        call.url = ClientCore::RepoUrl(host, ref.repository(), absl::StrCat("/manifests/", object));
        call.headers = {absl::StrCat("Content-Type: ", Sv(media_type))};
        call.body = bytes;
        call.scopes = {RepositoryScope(ref.repository(), true)};
        call.what = absl::StrCat("repository ", ref.repository(), " manifest ", object);
        TIDE_ASSIGN_OR_RETURN(HttpResponse resp, core.Execute(host, call));
        if (resp.status != 201) return ClientCore::HttpError(host, call, resp);
        if (auto claimed = Digest::Parse(resp.Header("docker-content-digest"));
            claimed.ok() && *claimed != digest) {
          return absl::DataLossError(absl::StrCat(host.host, " ", call.what, ": registry stored digest ",
                                                  claimed->str(), ", expected ", digest.str()));
        }
        return digest;
      });
}

}  // namespace tide::registry
