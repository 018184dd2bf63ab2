#ifndef TIDE_COMMON_LOG_H_
#define TIDE_COMMON_LOG_H_

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tide::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kFatal };

// Parses logrus level names (trace, debug, info, warn|warning, error, fatal|panic).
absl::StatusOr<Level> ParseLevel(std::string_view name);

// The one logger of tide-snapshotter and tidectl: every component writes through it, to stderr, in
// logrus' text form as containerd does, filtered by one level:
//   time="2026-01-02T03:04:05.123456789Z" level=info msg="prepared snapshot" key=default/1/x
void Setup(Level level);

struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  // absl::Status::message() is an absl::string_view on Debian (see common/string_view_compat.h).
  Field(std::string_view k, absl::string_view v) : key(k), value(v.data(), v.size()) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  std::string_view key;
  std::string_view value;
};

// Formats one record without writing it (also used by tests).
std::string Format(Level level, std::string_view message, std::initializer_list<Field> fields);

void Write(Level level, std::string_view message, std::initializer_list<Field> fields = {});
// Whether records of `level` are written: lets a hot path skip building fields nobody reads.
bool Enabled(Level level);
inline void Debug(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kDebug, m, f); }
inline void Info(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kInfo, m, f); }
inline void Warn(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kWarn, m, f); }
inline void Error(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kError, m, f); }

// Keeps a copy of every line written while it lives, for tests that check what was logged.
class ScopedCapture {
 public:
  ScopedCapture();
  ~ScopedCapture();
  ScopedCapture(const ScopedCapture&) = delete;
  ScopedCapture& operator=(const ScopedCapture&) = delete;
  std::string Text() const;

 private:
  struct Sink;
  std::shared_ptr<Sink> sink_;
};

}  // namespace tide::log

#endif  // TIDE_COMMON_LOG_H_
