// tide-snapshotter: containerd proxy snapshotter serving tide layers lazily.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "metrics/http_endpoint.h"
#include "metrics/text_writer.h"
#include "snapshotter/cache_service.h"
#include "snapshotter/config.h"
#include "snapshotter/remote_layer_mounter_factory.h"
#include "snapshotter/root_lock.h"
#include "snapshotter/server.h"
#include "snapshotter/snapshots_service.h"
#include "snapshotter/snapshotter.h"

namespace {

using tide::snapshotter::Config;
namespace log = tide::log;

int Run(const Config& config) {
  log::Setup(config.log_level);
  // First of all: nothing under root (cache included) may be touched while another daemon owns it.
  auto root = tide::snapshotter::RootLock::Acquire(config.root);
  if (!root.ok()) {
    log::Error("cannot take the state directory",
               {{"root", config.root.string()}, {"error", root.status().message()}});
    return 1;
  }
  auto mounter = tide::snapshotter::MakeRemoteLayerMounter(config, *root);
  if (!mounter.ok()) {
    log::Error("remote layer mounter failed to start", {{"error", mounter.status().message()}});
    return 1;
  }
  auto snapshotter = tide::snapshotter::Snapshotter::Open(std::move(*root), std::move(*mounter));
  if (!snapshotter.ok()) {
    log::Error("cannot open snapshotter state",
               {{"root", config.root.string()}, {"error", snapshotter.status().message()}});
    return 1;
  }
  tide::snapshotter::SnapshotsService service(snapshotter->get());
  tide::snapshotter::CacheService cache_service((*snapshotter)->mounter_node_cache());
  auto server = tide::snapshotter::UnixSocketServer::Start(config.address, {&service, &cache_service});
  if (!server.ok()) {
    log::Error("cannot serve", {{"address", config.address}, {"error", server.status().message()}});
    return 1;
  }
  std::unique_ptr<tide::metrics::HttpEndpoint> metrics;
  if (!config.metrics_address.empty()) {
    tide::snapshotter::Snapshotter* s = snapshotter->get();
    auto started = tide::metrics::HttpEndpoint::Start(
        config.metrics_address, [s](std::string_view path) -> std::optional<tide::metrics::HttpReply> {
          if (path == "/status")
            return tide::metrics::HttpReply{"application/json", s->Status().dump() + "\n"};
          if (path != "/metrics") return std::nullopt;
          tide::metrics::TextWriter out;
          s->WriteMetrics(out);
          return tide::metrics::HttpReply{"text/plain; version=0.0.4; charset=utf-8", out.text()};
        });
    if (!started.ok()) {
      log::Error("cannot serve metrics",
                 {{"address", config.metrics_address}, {"error", started.status().message()}});
      return 1;
    }
    metrics = std::move(*started);
  }
  log::Info("serving", {{"address", config.address}, {"root", config.root.string()}});

  // Signals are blocked in every thread (set before any was started) and taken here synchronously.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int signal = 0;
  sigwait(&signals, &signal);
  log::Info("shutting down", {{"signal", signal == SIGINT ? "SIGINT" : "SIGTERM"}});
  (*server)->Shutdown();
  (*server)->Wait();
  server->reset();
  metrics.reset();
  if (config.keep_mounts_on_restart) {
    // Lazy layers stay mounted, their connections held by their keepers, for the next daemon to
    // serve; what was in flight is resent to it. Destructors would unmount them, so leave as a
    // crash would: the metadata store's committed transactions are already durable.
    log::Info("stopped", {{"layer_mounts", "kept for the next start"}});
    std::_Exit(0);
  }
  log::Info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  CLI::App app{"tide-snapshotter: containerd remote snapshotter for lazily pulled tide images"};
  app.set_version_flag("--version", std::string("tide-snapshotter ") + TIDE_VERSION);
  std::string config_path, root, address, log_level;
  app.add_option("--config", config_path, "TOML config file");
  app.add_option("--root", root, "state and cache directory (overrides root)");
  app.add_option("--address", address, "gRPC unix socket path (overrides address)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or fatal (overrides log_level)");
  CLI11_PARSE(app, argc, argv);

  Config config;
  if (!config_path.empty()) {
    auto loaded = tide::snapshotter::LoadConfig(config_path);
    if (!loaded.ok()) {
      std::cerr << "tide-snapshotter: " << loaded.status().message() << "\n";
      return 2;
    }
    config = *loaded;
  }
  if (!root.empty()) {
    if (root.front() != '/') {
      std::cerr << "tide-snapshotter: --root must be an absolute path, got \"" << root << "\"\n";
      return 2;
    }
    config.root = root;
  }
  if (!address.empty()) config.address = address;
  if (!log_level.empty()) {
    auto level = log::ParseLevel(log_level);
    if (!level.ok()) {
      std::cerr << "tide-snapshotter: --log-level: " << level.status().message() << "\n";
      return 2;
    }
    config.log_level = *level;
  }
  return Run(config);
}
