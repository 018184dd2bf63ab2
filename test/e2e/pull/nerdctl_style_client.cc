#include "test/e2e/pull/nerdctl_style_client.h"

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "containerd_client/containerd_client.h"
#include "test/e2e/pull/pull_checks.h"

namespace tide::testing {

std::vector<NerdctlLayerResult> NerdctlStyleUnpack(PullEnv& env, const std::string& ref,
                                                   const std::string& ns) {
  RegistryImage image = FetchRegistryImage(env, ref);
  auto client = containerd_client::ContainerdClient::Connect(env.containerd().address(), ns);
  REQUIRE(client.ok());
  containerd_client::ContainerdClient& c = **client;
  const std::string lease = "nerdctl-style-" + image.manifest_digest.str().substr(7, 12);
  REQUIRE(c.CreateLease(lease, {}).ok());
  c.set_lease(lease);

  std::vector<NerdctlLayerResult> results;
  for (size_t i = 0; i < image.chain_ids.size(); ++i) {
    const std::string chain = image.chain_ids[i].str();
    REQUIRE(absl::IsNotFound(c.StatSnapshot("tide", chain).status()));
    containerd_client::Labels labels;
    for (const auto& [key, value] : image.manifest.layers[i].annotations) {
      if (key.starts_with("containerd.io/snapshot/")) labels[key] = value;
    }
    labels["containerd.io/snapshot.ref"] = chain;
    std::string key = absl::StrCat("extract-", i, "-nerdctl ", chain);
    NerdctlLayerResult result;
    result.prepare =
        c.PrepareSnapshot("tide", key, i == 0 ? "" : image.chain_ids[i - 1].str(), labels).status();
    auto info = c.StatSnapshot("tide", chain);
    result.committed = info.ok();
    if (info.ok()) {
      result.remote_label = info->labels().contains("containerd.io/snapshot/remote");
      for (const auto& [k, v] : info->labels()) {
        if (k.starts_with("containerd.io/snapshot/cri.")) result.cri_labels = true;
      }
    }
    results.push_back(result);
    if (!absl::IsAlreadyExists(result.prepare) || !result.committed) break;
  }
  c.set_lease("");
  CHECK(c.DeleteLease(lease, /*sync=*/true).ok());
  return results;
}

}  // namespace tide::testing
