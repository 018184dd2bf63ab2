#include "registry/http_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"

namespace tide::registry {

std::string_view HttpResponse::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct FileBody {
  FILE* file = nullptr;
  uint64_t remaining = 0;
};

// State of one transfer, shared by the curl callbacks.
struct Exchange {
  const HttpRequest* request = nullptr;
  ResponseHandler* handler = nullptr;
  size_t max_body = 0;
  HttpResponse response;
  bool headers_done = false;
  absl::Status handler_status;
  std::string_view memory_body;
  FileBody file_body;

  bool Streaming() const { return handler != nullptr && response.status >= 200 && response.status < 300; }
};

size_t OnHeaderLine(char* data, size_t size, size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  size_t n = size * count;
  std::string_view line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    // A new response (after 1xx or within one handle's redirect-free exchange) starts over.
    ex->response.headers.clear();
    ex->headers_done = false;
    size_t sp = line.find(' ');
    ex->response.status =
        sp == std::string_view::npos ? 0 : std::atol(std::string(line.substr(sp + 1, 3)).c_str());
    return n;
  }
  if (line.empty()) {
    if (ex->response.status >= 200) {
      ex->headers_done = true;
      if (ex->Streaming()) {
        ex->handler_status = ex->handler->OnHeaders(ex->response);
        if (!ex->handler_status.ok()) return 0;
      }
    }
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name = absl::AsciiStrToLower(Sv(line.substr(0, colon)));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  ex->response.headers.emplace_back(std::move(name), std::string(value));
  return n;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  size_t n = size * count;
  if (ex->Streaming()) {
    ex->handler_status = ex->handler->OnData(std::string_view(data, n));
    return ex->handler_status.ok() ? n : 0;
  }
  size_t room = ex->max_body - std::min(ex->max_body, ex->response.body.size());
  if (n > room) ex->response.body_truncated_by_cap = true;
  ex->response.body.append(data, std::min(n, room));
  return n;
}

size_t OnReadBody(char* buffer, size_t size, size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  size_t want = size * count;
  if (ex->file_body.file != nullptr) {
    want = static_cast<size_t>(std::min<uint64_t>(want, ex->file_body.remaining));
    size_t got = std::fread(buffer, 1, want, ex->file_body.file);
    if (got != want) return CURL_READFUNC_ABORT;
    ex->file_body.remaining -= got;
    return got;
  }
  size_t n = std::min(want, ex->memory_body.size());
  std::copy_n(ex->memory_body.data(), n, buffer);
  ex->memory_body.remove_prefix(n);
  return n;
}

int OnSeek(void* user, curl_off_t offset, int origin) {
  auto* ex = static_cast<Exchange*>(user);
  if (origin != SEEK_SET || offset != 0) return CURL_SEEKFUNC_CANTSEEK;
  // curl rewinds when it must resend the body on a fresh connection.
  if (ex->file_body.file != nullptr) {
    if (fseeko(ex->file_body.file, static_cast<off_t>(ex->request->body_file_offset), SEEK_SET) != 0) {
      return CURL_SEEKFUNC_FAIL;
    }
    ex->file_body.remaining = ex->request->body_file_length;
  } else {
    ex->memory_body = ex->request->body;
  }
  return CURL_SEEKFUNC_OK;
}

bool Retriable(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP3:
      return true;
    default:
      return false;
  }
}

struct FileCloser {
  void operator()(FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};

}  // namespace

HttpTransport::HttpTransport(TransportOptions options) : options_(std::move(options)) { GlobalInit(); }

HttpTransport::~HttpTransport() {
  for (void* share : idle_) curl_share_cleanup(static_cast<CURLSH*>(share));
}

void* HttpTransport::AcquireSlot() {
  {
    std::lock_guard lock(pool_mu_);
    if (!idle_.empty()) {
      void* share = idle_.back();
      idle_.pop_back();
      return share;
    }
  }
  // Used by one request at a time, so it needs no lock callbacks: libcurl supports a shared
  // connection cache only without concurrent users.
  CURLSH* share = curl_share_init();
  if (share == nullptr) return nullptr;
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  return share;
}

void HttpTransport::ReleaseSlot(void* share) {
  {
    std::lock_guard lock(pool_mu_);
    if (idle_.size() < kMaxIdleSlots) {
      idle_.push_back(share);
      return;
    }
  }
  curl_share_cleanup(static_cast<CURLSH*>(share));  // a burst beyond the pool: close its connections
}

absl::StatusOr<HttpResponse> HttpTransport::Perform(const HttpRequest& request, ResponseHandler* handler) {
  // A new easy handle for every request, its connections kept in a pooled share: libcurl 7.88
  // (Debian 12) keeps header-parsing state in an easy handle that curl_easy_reset does not clear, and
  // a hostile server's response to a reused handle made it free a header buffer twice
  // (registry_fuzz_client). Fresh handles never carry that state; the share keeps keep-alive.
  CURLSH* slot = static_cast<CURLSH*>(AcquireSlot());
  if (slot == nullptr) return absl::ResourceExhaustedError("curl_share_init failed");
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    ReleaseSlot(slot);
    return absl::ResourceExhaustedError("curl_easy_init failed");
  }
  struct Releaser {
    HttpTransport* self;
    CURLSH* slot;
    CURL* curl;
    ~Releaser() {
      curl_easy_cleanup(curl);  // first: the share must have no users when it is pooled or freed
      self->ReleaseSlot(slot);
    }
  } releaser{this, slot, curl};
  const bool has_deadline = request.deadline != std::chrono::steady_clock::time_point::max();
  if (has_deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(request.deadline -
                                                                      std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return absl::DeadlineExceededError(absl::StrCat(request.method, " ", request.url, ": deadline passed"));
    }
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(left.count()));
  }

  Exchange ex;
  ex.request = &request;
  ex.handler = handler;
  ex.max_body = options_.max_body_bytes;
  std::unique_ptr<FILE, FileCloser> file;
  bool has_body = !request.body.empty() || !request.body_file.empty();
  if (!request.body_file.empty()) {
    file.reset(std::fopen(request.body_file.c_str(), "rb"));
    if (!file) return absl::NotFoundError(absl::StrCat("cannot open upload body ", request.body_file));
    if (fseeko(file.get(), static_cast<off_t>(request.body_file_offset), SEEK_SET) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("cannot seek in upload body ", request.body_file));
    }
    ex.file_body = FileBody{file.get(), request.body_file_length};
  }
  ex.memory_body = request.body;

  curl_easy_setopt(curl, CURLOPT_SHARE, slot);
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  // Fewer, larger write callbacks for big ranges (libcurl's default is 16 KiB).
  curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 128L * 1024);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  const std::chrono::milliseconds low_speed =
      request.low_speed_time.count() > 0 ? request.low_speed_time : options_.low_speed_time;
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(std::max<int64_t>(1, (low_speed.count() + 999) / 1000)));
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeaderLine);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &ex);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ex);

  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET" || has_body) {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (request.method != "GET" && request.method != "DELETE") {
      curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
      curl_off_t size = file ? static_cast<curl_off_t>(request.body_file_length)
                             : static_cast<curl_off_t>(request.body.size());
      curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, size);
      curl_easy_setopt(curl, CURLOPT_READFUNCTION, &OnReadBody);
      curl_easy_setopt(curl, CURLOPT_READDATA, &ex);
      curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, &OnSeek);
      curl_easy_setopt(curl, CURLOPT_SEEKDATA, &ex);
    }
  }

  struct curl_slist* headers = nullptr;
  for (const std::string& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  headers = curl_slist_append(headers, "Expect:");
  struct SlistFree {
    curl_slist* list;
    ~SlistFree() { curl_slist_free_all(list); }
  } free_headers{headers};
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  if (request.tls != nullptr) {
    const TlsConfig& tls = *request.tls;
    if (tls.skip_verify) {
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (!tls.ca_pem.empty()) {
      curl_blob blob{const_cast<char*>(tls.ca_pem.data()), tls.ca_pem.size(), CURL_BLOB_NOCOPY};
      curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &blob);
    }
    if (!tls.client_cert_path.empty()) {
      curl_easy_setopt(curl, CURLOPT_SSLCERT, tls.client_cert_path.c_str());
      curl_easy_setopt(curl, CURLOPT_SSLKEY, tls.client_key_path.c_str());
    }
  }

  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  CURLcode code = curl_easy_perform(curl);
  if (!ex.handler_status.ok()) return ex.handler_status;
  if (code != CURLE_OK) {
    std::string what = absl::StrCat(request.method, " ", request.url, ": ", curl_easy_strerror(code),
                                    error_buffer[0] != 0 ? absl::StrCat(" (", error_buffer, ")") : "");
    // curl's own clock may stop it a hair before ours reaches the deadline.
    if (code == CURLE_OPERATION_TIMEDOUT && has_deadline &&
        std::chrono::steady_clock::now() + std::chrono::milliseconds(20) >= request.deadline) {
      return absl::DeadlineExceededError(absl::StrCat(what, " (deadline)"));
    }
    if (Retriable(code)) return absl::UnavailableError(what);
    if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CERTPROBLEM ||
        code == CURLE_SSL_CACERT_BADFILE) {
      return absl::FailedPreconditionError(absl::StrCat("TLS: ", what));
    }
    return absl::InternalError(what);
  }
  if (!ex.headers_done) {
    return absl::UnavailableError(absl::StrCat(request.method, " ", request.url, ": incomplete response"));
  }
  return std::move(ex.response);
}

}  // namespace tide::registry
