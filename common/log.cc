#include "common/log.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/string_view_compat.h"

namespace tide::log {
namespace {

std::atomic<Level> min_level{Level::kInfo};

std::shared_ptr<spdlog::logger> Logger() {
  // Our own "time=... level=..." prefix carries the logrus shape; spdlog only writes the line.
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = std::make_shared<spdlog::logger>("tide", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return logger;
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kTrace:
      return "trace";
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warning";
    case Level::kError:
      return "error";
    case Level::kFatal:
      return "fatal";
  }
  return "info";
}

// logrus quotes a value unless it is made only of these characters.
bool NeedsQuoting(std::string_view s) {
  if (s.empty()) return true;
  for (char c : s) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                 c == '.' || c == '_' || c == '/' || c == '@' || c == '^' || c == '+' || c == ':';
    if (!plain) return true;
  }
  return false;
}

void AppendValue(std::string* out, std::string_view value) {
  if (!NeedsQuoting(value)) {
    out->append(value);
    return;
  }
  out->push_back('"');
  for (char c : value) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned char>(c));
          out->append(buf);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

}  // namespace

absl::StatusOr<Level> ParseLevel(std::string_view name) {
  if (name == "trace") return Level::kTrace;
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn" || name == "warning") return Level::kWarn;
  if (name == "error") return Level::kError;
  if (name == "fatal" || name == "panic") return Level::kFatal;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log level \"", Sv(name), "\" (want trace, debug, info, warn, error or fatal)"));
}

void Setup(Level level) {
  min_level = level;
  Logger();
}

std::string Format(Level level, std::string_view message, std::initializer_list<Field> fields) {
  std::string line =
      absl::StrCat("time=\"", absl::FormatTime("%Y-%m-%dT%H:%M:%E9SZ", absl::Now(), absl::UTCTimeZone()),
                   "\" level=", Sv(LevelName(level)), " msg=");
  // logrus always quotes msg when it needs it and leaves single words bare; keep it simple and quote.
  line.push_back('"');
  std::string escaped;
  AppendValue(&escaped, message);
  if (!escaped.empty() && escaped.front() == '"') {
    line.append(escaped.substr(1, escaped.size() - 2));
  } else {
    line.append(escaped);
  }
  line.push_back('"');
  for (const Field& f : fields) {
    line.push_back(' ');
    line.append(f.key);
    line.push_back('=');
    AppendValue(&line, f.value);
  }
  return line;
}

bool Enabled(Level level) { return level >= min_level.load(std::memory_order_relaxed); }

void Write(Level level, std::string_view message, std::initializer_list<Field> fields) {
  if (!Enabled(level)) return;
  std::string line = Format(level, message, fields);
  Logger()->log(spdlog::source_loc{}, spdlog::level::info, spdlog::string_view_t(line.data(), line.size()));
}

struct ScopedCapture::Sink {
  std::ostringstream text;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink =
      std::make_shared<spdlog::sinks::ostream_sink_mt>(text, /*force_flush=*/true);
};

ScopedCapture::ScopedCapture() : sink_(std::make_shared<Sink>()) {
  sink_->sink->set_pattern("%v");
  Logger()->sinks().push_back(sink_->sink);
}

ScopedCapture::~ScopedCapture() {
  auto& sinks = Logger()->sinks();
  sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_->sink), sinks.end());
}

std::string ScopedCapture::Text() const {
  Logger()->flush();
  return sink_->text.str();
}

}  // namespace tide::log
