#include "test/integration/layer/layer_builder.h"

#include <fcntl.h>
#include <zstd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/unique_fd.h"
#include "format/byte_io.h"
#include "format/footer.h"
#include "format/index_loader.h"
#include "format/le_bytes.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"

namespace tide::layer::testing {

namespace fs = std::filesystem;
using tide::testing::RunCommand;

fs::path TestScript(const std::string& name) {
  const char* src = std::getenv("TIDE_SOURCE_DIR");
  return fs::path(src ? src : ".") / "test/integration/layer" / name;
}

absl::StatusOr<BuiltLayer> BuildLayer(const fs::path& tree, const fs::path& out_dir, const std::string& name,
                                      format::LayerWriterOptions options) {
  BuiltLayer layer;
  layer.tar = out_dir / (name + ".tar");
  layer.blob = out_dir / (name + ".tide");
  auto tar = RunCommand({"tar", "--format=posix", "--xattrs", "--xattrs-include=*", "--numeric-owner",
                         "--sort=name", "-C", tree.string(), "-cf", layer.tar.string(), "."},
                        std::chrono::seconds(300));
  if (tar.exit_code != 0) return absl::InternalError(absl::StrCat("tar ", tree.string(), ": ", tar.output));
  UniqueFd in(::open(layer.tar.c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd out(::open(layer.blob.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!in.valid() || !out.valid()) return absl::InternalError("open layer files");
  format::FdSource source(in.get());
  format::FdSink sink(out.get());
  auto result = format::WriteLayer(source, sink, options);
  if (!result.ok()) return result.status();
  layer.result = std::move(*result);
  return layer;
}

absl::StatusOr<BuiltLayer> BuildLayerStreaming(const fs::path& tree, const fs::path& out_dir,
                                               const std::string& name, format::LayerWriterOptions options) {
  BuiltLayer layer;
  layer.blob = out_dir / (name + ".tide");
  std::string cmd =
      absl::StrCat("tar --format=posix --numeric-owner --sort=name -C '", tree.string(), "' -cf - .");
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return absl::InternalError("popen tar");
  UniqueFd out(::open(layer.blob.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  format::FdSource source(::fileno(pipe));
  format::FdSink sink(out.get());
  auto result = format::WriteLayer(source, sink, options);
  int rc = ::pclose(pipe);
  if (!result.ok()) return result.status();
  if (rc != 0) return absl::InternalError(absl::StrCat("tar of ", tree.string(), " exited with ", rc));
  layer.result = std::move(*result);
  return layer;
}

absl::StatusOr<BuiltLayer> WithIndexDiffId(const BuiltLayer& layer, const Sha256Bytes& diff_id,
                                           const fs::path& out_dir, const std::string& name) {
  const std::string blob = tide::testing::ReadFile(layer.blob);
  const std::string frame = blob.substr(layer.result.index_offset, layer.result.index_size);
  TIDE_ASSIGN_OR_RETURN(std::string payload,
                        format::DecompressIndexFrame(frame, format::kDefaultMaxIndexMemory));
  tide::format::v1::LayerIndex pb;
  if (!pb.ParseFromString(payload)) return absl::InternalError("index proto does not parse");
  pb.set_tar_sha256(std::string(reinterpret_cast<const char*>(diff_id.data()), diff_id.size()));
  const std::string proto = pb.SerializeAsString();
  std::string compressed(ZSTD_compressBound(proto.size()), '\0');
  const size_t n = ZSTD_compress(compressed.data(), compressed.size(), proto.data(), proto.size(), 3);
  if (ZSTD_isError(n)) return absl::InternalError(ZSTD_getErrorName(n));
  compressed.resize(n);
  std::string new_frame;
  format::PutLe32(&new_frame, format::kIndexFrameMagic);
  format::PutLe32(&new_frame, static_cast<uint32_t>(compressed.size()));
  new_frame += compressed;
  BuiltLayer out = layer;
  out.blob = out_dir / (name + ".tide");
  tide::testing::WriteFile(out.blob, blob.substr(0, layer.result.index_offset) + new_frame);
  out.result.index_size = new_frame.size();
  out.result.index_digest = Digest::Of(new_frame);
  out.result.blob_size = layer.result.index_offset + new_frame.size();
  return out;
}

absl::Status ExtractTar(const fs::path& tar, const fs::path& dir) {
  fs::create_directories(dir);
  auto r = RunCommand({"tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "--same-owner", "-xpf",
                       tar.string(), "-C", dir.string()},
                      std::chrono::seconds(300));
  if (r.exit_code != 0) return absl::InternalError(absl::StrCat("extract ", tar.string(), ": ", r.output));
  return absl::OkStatus();
}

absl::Status ApplyLayers(const std::vector<fs::path>& tars, const fs::path& dir) {
  fs::create_directories(dir);
  for (const fs::path& tar : tars) {
    auto list = RunCommand({"tar", "-tf", tar.string()});
    if (list.exit_code != 0)
      return absl::InternalError(absl::StrCat("list ", tar.string(), ": ", list.output));
    std::istringstream lines(list.output);
    std::string line;
    while (std::getline(lines, line)) {
      fs::path p = fs::path(line).lexically_normal();
      std::string base = p.filename().string();
      if (base == ".wh..wh..opq") {
        std::error_code ec;
        for (const auto& child : fs::directory_iterator(dir / p.parent_path(), ec))
          fs::remove_all(child.path());
      } else if (base.starts_with(".wh.")) {
        fs::remove_all(dir / p.parent_path() / base.substr(4));
      }
    }
    auto r = RunCommand({"tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "--same-owner",
                         "--exclude=.wh.*", "-xpf", tar.string(), "-C", dir.string()},
                        std::chrono::seconds(300));
    if (r.exit_code != 0) return absl::InternalError(absl::StrCat("apply ", tar.string(), ": ", r.output));
  }
  return absl::OkStatus();
}

}  // namespace tide::layer::testing
