#include "converter/image_converter.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "converter/layer_converter.h"
#include "oci/image_config.h"
#include "oci/index.h"
#include "oci/manifest.h"
#include "oci/media_types.h"

namespace tide::converter {

namespace {

std::string Short(const Digest& d) { return d.str().substr(0, 19); }

class Converter {
 public:
  Converter(ImageSource& source, ImageDestination& dest, const ConvertOptions& options)
      : source_(source), dest_(dest), options_(options) {}

  absl::StatusOr<ConvertSummary> Run() {
    TIDE_ASSIGN_OR_RETURN(RootObject root, source_.FetchRoot());
    const std::string& type = root.descriptor.media_type;
    oci::Descriptor out;
    std::string out_bytes;
    if (oci::IsIndex(type) || (type.empty() && root.bytes.find("\"manifests\"") != std::string::npos)) {
      TIDE_RETURN_IF_ERROR(ConvertIndex(root, &out, &out_bytes));
    } else {
      TIDE_ASSIGN_OR_RETURN(oci::Manifest m,
                            oci::Manifest::Parse(root.bytes, absl::StrCat(source_.Describe(), " manifest")));
      if (options_.platform) {
        TIDE_ASSIGN_OR_RETURN(oci::Platform p, ConfigPlatform(m, source_.Describe()));
        if (!options_.platform->Matches(p)) {
          return absl::NotFoundError(absl::StrCat(source_.Describe(), " is for ", p.ToString(), ", not ",
                                                  options_.platform->ToString()));
        }
      }
      TIDE_RETURN_IF_ERROR(ConvertManifest(m, source_.Describe(), &out, &out_bytes));
    }
    TIDE_RETURN_IF_ERROR(dest_.Publish(out, out_bytes));
    summary_.root = out;
    return summary_;
  }

 private:
  absl::Status ConvertIndex(const RootObject& root, oci::Descriptor* out, std::string* out_bytes) {
    std::string context = absl::StrCat(source_.Describe(), " index");
    TIDE_ASSIGN_OR_RETURN(oci::Index index, oci::Index::Parse(root.bytes, context));
    oci::Index converted;
    converted.media_type = std::string(oci::kOciIndex);
    converted.annotations = index.annotations;
    std::vector<std::string> available;
    for (const oci::Descriptor& entry : index.manifests) {
      std::string where = entry.platform ? entry.platform->ToString() : "no platform";
      available.push_back(where);
      if (!oci::IsManifest(entry.media_type)) {
        Note(absl::StrCat("skipping ", Short(entry.digest), " (", entry.media_type,
                          "): not an image manifest"));
        continue;
      }
      if (entry.platform && entry.platform->os == "unknown") {
        // Attestations and other artifacts ride in indexes with platform unknown/unknown.
        Note(absl::StrCat("skipping ", Short(entry.digest), ": no runnable platform"));
        continue;
      }
      if (options_.platform && entry.platform && !options_.platform->Matches(*entry.platform)) continue;
      TIDE_ASSIGN_OR_RETURN(std::string bytes, source_.FetchBlob(entry));
      std::string mcontext =
          absl::StrCat(source_.Describe(), " manifest ", Short(entry.digest), " (", where, ")");
      TIDE_ASSIGN_OR_RETURN(oci::Manifest m, oci::Manifest::Parse(bytes, mcontext));
      oci::Descriptor converted_entry;
      std::string converted_bytes;
      if (!entry.platform && options_.platform) {
        // Entries without a platform field are judged by their config's platform.
        TIDE_ASSIGN_OR_RETURN(oci::Platform p, ConfigPlatform(m, mcontext));
        if (!options_.platform->Matches(p)) continue;
      }
      TIDE_RETURN_IF_ERROR(ConvertManifest(m, mcontext, &converted_entry, &converted_bytes));
      TIDE_RETURN_IF_ERROR(dest_.PutManifest(converted_entry, converted_bytes));
      converted_entry.platform = entry.platform;
      for (const auto& [k, v] : entry.annotations) converted_entry.annotations.emplace(k, v);
      converted.manifests.push_back(std::move(converted_entry));
    }
    if (converted.manifests.empty()) {
      return absl::NotFoundError(absl::StrCat(
          context, ": no image manifest",
          options_.platform ? absl::StrCat(" for platform ", options_.platform->ToString()) : std::string(),
          " (index has: ", absl::StrJoin(available, ", "), ")"));
    }
    *out_bytes = converted.Serialize();
    *out = oci::Descriptor{std::string(oci::kOciIndex),
                           Digest::Of(*out_bytes),
                           static_cast<int64_t>(out_bytes->size()),
                           {},
                           std::nullopt,
                           {},
                           ""};
    return absl::OkStatus();
  }

  absl::StatusOr<oci::Platform> ConfigPlatform(const oci::Manifest& m, const std::string& context) {
    TIDE_ASSIGN_OR_RETURN(std::string bytes, source_.FetchBlob(m.config));
    TIDE_ASSIGN_OR_RETURN(oci::ImageConfig config,
                          oci::ImageConfig::Parse(bytes, absl::StrCat(context, " config")));
    return config.GetPlatform();
  }

  absl::Status ConvertManifest(const oci::Manifest& m, const std::string& context, oci::Descriptor* out,
                               std::string* out_bytes) {
    if (!oci::IsConfig(m.config.media_type)) {
      return absl::InvalidArgumentError(
          absl::StrCat(context, ": config media type \"", m.config.media_type, "\" is not an image config"));
    }
    TIDE_ASSIGN_OR_RETURN(std::string config_bytes, source_.FetchBlob(m.config));
    TIDE_ASSIGN_OR_RETURN(oci::ImageConfig config,
                          oci::ImageConfig::Parse(config_bytes, absl::StrCat(context, " config")));
    TIDE_ASSIGN_OR_RETURN(std::vector<Digest> diff_ids, config.DiffIds());
    if (diff_ids.size() != m.layers.size()) {
      return absl::InvalidArgumentError(absl::StrCat(context, ": ", m.layers.size(),
                                                     " layers but the config has ", diff_ids.size(),
                                                     " rootfs.diff_ids"));
    }
    std::vector<LayerJob> jobs;
    for (size_t i = 0; i < m.layers.size(); ++i) {
      jobs.push_back(
          LayerJob{m.layers[i], diff_ids[i],
                   absl::StrCat("layer ", i + 1, "/", m.layers.size(), " ", Short(m.layers[i].digest))});
    }
    TIDE_ASSIGN_OR_RETURN(std::vector<ConvertedLayer> layers, ConvertLayers(jobs));

    std::vector<Digest> new_diff_ids;
    oci::Manifest converted;
    converted.media_type = std::string(oci::kOciManifest);
    converted.annotations = m.annotations;
    converted.subject = m.subject;
    for (const ConvertedLayer& l : layers) {
      new_diff_ids.push_back(l.diff_id);
      converted.layers.push_back(l.descriptor);
    }
    config.SetDiffIds(new_diff_ids);
    std::string new_config = config.Serialize();
    converted.config = oci::Descriptor{std::string(oci::kOciConfig),
                                       Digest::Of(new_config),
                                       static_cast<int64_t>(new_config.size()),
                                       {},
                                       std::nullopt,
                                       {},
                                       ""};
    TIDE_RETURN_IF_ERROR(dest_.PutBlob(converted.config, new_config));
    *out_bytes = converted.Serialize();
    *out = oci::Descriptor{std::string(oci::kOciManifest),
                           Digest::Of(*out_bytes),
                           static_cast<int64_t>(out_bytes->size()),
                           {},
                           std::nullopt,
                           {},
                           ""};
    ++summary_.manifests;
    return absl::OkStatus();
  }

  // Runs the jobs on a few threads; a layer seen before (same source digest) is converted once.
  absl::StatusOr<std::vector<ConvertedLayer>> ConvertLayers(const std::vector<LayerJob>& jobs) {
    std::vector<absl::StatusOr<ConvertedLayer>> results(jobs.size(), absl::CancelledError("not converted"));
    std::vector<size_t> todo;
    std::map<Digest, size_t> first_of;
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (done_.count(jobs[i].source.digest) == 0 && first_of.emplace(jobs[i].source.digest, i).second) {
        todo.push_back(i);
      }
    }
    unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    size_t workers = options_.parallel_layers > 0 ? static_cast<size_t>(options_.parallel_layers) : hw;
    workers = std::min(workers, todo.size());
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    auto work = [&] {
      for (size_t k = next++; k < todo.size() && !failed; k = next++) {
        size_t i = todo[k];
        format::LayerWriterOptions writer = options_.writer;
        if (options_.startup_for_layer && jobs[i].expected_diff_id) {
          writer.startup = options_.startup_for_layer(jobs[i].source, *jobs[i].expected_diff_id);
        }
        results[i] = ConvertLayer(source_, dest_, jobs[i], writer, options_.progress);
        if (!results[i].ok()) failed = true;
      }
    };
    std::vector<std::thread> threads;
    for (size_t t = 0; t < workers; ++t) threads.emplace_back(work);
    for (std::thread& t : threads) t.join();
    // Report the first layer that actually failed, not one that was cancelled because of it.
    for (size_t i : todo) {
      if (!results[i].ok() && results[i].status().code() != absl::StatusCode::kCancelled) {
        return results[i].status();
      }
    }
    std::vector<ConvertedLayer> out;
    for (size_t i : todo) {
      if (!results[i].ok()) return results[i].status();
      done_.emplace(jobs[i].source.digest, *results[i]);
      ++summary_.layers;
      summary_.tar_bytes += results[i]->stats.tar_size;
      summary_.source_bytes += static_cast<uint64_t>(jobs[i].source.size);
      summary_.output_bytes += results[i]->stats.blob_size;
      summary_.startup_bytes += results[i]->stats.startup_bytes;
      summary_.startup_read_bytes += results[i]->stats.startup_read_bytes;
      summary_.startup_read_compressed_bytes += results[i]->stats.startup_read_compressed_bytes;
    }
    for (const LayerJob& job : jobs) out.push_back(done_.at(job.source.digest));
    return out;
  }

  void Note(const std::string& line) {
    if (options_.progress != nullptr) options_.progress->Note(line);
  }

  ImageSource& source_;
  ImageDestination& dest_;
  const ConvertOptions& options_;
  std::map<Digest, ConvertedLayer> done_;
  ConvertSummary summary_;
};

}  // namespace

absl::StatusOr<ConvertSummary> ConvertImage(ImageSource& source, ImageDestination& dest,
                                            const ConvertOptions& options) {
  Converter c(source, dest, options);
  return c.Run();
}

}  // namespace tide::converter
