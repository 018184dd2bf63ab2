// A fault-injecting proxy between client and registry: resets, stalls, truncated bodies, 503s.
#include <catch2/catch.hpp>
#include <chrono>
#include <random>
#include <span>

#include "registry/registry_client.h"
#include "test/integration/registry/registry_fixture.h"
#include "test/integration/registry/test_image.h"
#include "test/support/registry/fault_proxy.h"

namespace tide::registry {
namespace {

using tide::testing::Fault;
using tide::testing::FaultProxy;
using namespace tide::registry::testing;

struct Outcomes {
  int ok = 0;
  int failed = 0;
};

// Every result is either the exact bytes or an error that names the host and is one of the codes a
// caller can act on; never different bytes.
void CheckRead(const absl::StatusOr<std::string>& got, const std::string& want, const std::string& host,
               Outcomes& outcomes) {
  if (got.ok()) {
    REQUIRE(got->size() == want.size());
    REQUIRE(*got == want);
    ++outcomes.ok;
    return;
  }
  ++outcomes.failed;
  INFO(got.status().ToString());
  CHECK((got.status().code() == absl::StatusCode::kUnavailable ||
         got.status().code() == absl::StatusCode::kDataLoss));
  CHECK(std::string(got.status().message()).find(host) != std::string::npos);
}

TEST_CASE_METHOD(
    RegistryFixture,
    "Under injected faults reads return exact bytes or a clear error, and recover when faults stop") {
  RegistryClient& direct = *client;
  Reference upstream_ref = Ref("faulty/app:v1");
  PushedImage image = PushRandomImage(direct, upstream_ref, {4 << 20, 300000}, 61);
  const TestBlob& big = image.layers[0];

  auto proxy = FaultProxy::Start(registry->port(), 20261126);
  REQUIRE(proxy.ok());
  std::string host = (*proxy)->host();
  Reference ref = ParseRef(host + "/faulty/app:v1");
  RegistryClientOptions options = FastOptions(dir);
  options.retry.max_attempts = 8;
  options.max_concurrent_ranges = 8;
  auto through_proxy = NewClient(options);
  RegistryClient& c = *through_proxy;
  std::mt19937 rng(99);
  auto random_range = [&] {
    uint64_t off = std::uniform_int_distribution<uint64_t>(0, big.bytes.size() - 1)(rng);
    uint64_t len =
        std::uniform_int_distribution<uint64_t>(1, std::min<uint64_t>(600000, big.bytes.size() - off))(rng);
    return ByteRange{off, len};
  };
  // Eight random ranges of `big` read as one batch, each checked as CheckRead does.
  auto check_random_batch = [&](Outcomes& outcomes) {
    std::vector<ByteRange> ranges;
    for (int i = 0; i < 8; ++i) ranges.push_back(random_range());
    auto batch = c.ReadBlobRanges(ref, big.digest, ranges);
    if (!batch.ok()) return CheckRead(batch.status(), "", host, outcomes);
    for (size_t i = 0; i < ranges.size(); ++i) {
      CheckRead((*batch)[i], big.bytes.substr(ranges[i].offset, ranges[i].length), host, outcomes);
    }
  };

  SECTION("resets, truncations and 503s") {
    (*proxy)->SetFaultRate(0.4, {Fault::kReset, Fault::kTruncate, Fault::k503});
    Outcomes outcomes;
    for (int round = 0; round < 6; ++round) {
      check_random_batch(outcomes);
      ByteRange one = random_range();
      CheckRead(c.ReadBlobRange(ref, big.digest, one.offset, one.length),
                big.bytes.substr(one.offset, one.length), host, outcomes);
    }
    for (int i = 0; i < 3; ++i) CheckRead(c.FetchBlobBytes(ref, big.digest), big.bytes, host, outcomes);
    auto manifest = c.FetchManifest(ref);
    CheckRead(manifest.ok() ? absl::StatusOr<std::string>(manifest->bytes) : manifest.status(),
              image.manifest, host, outcomes);
    auto counts = (*proxy)->counts();
    INFO("resets " << counts.resets << " truncations " << counts.truncations << " 503s "
                   << counts.unavailable);
    CHECK(counts.resets + counts.truncations + counts.unavailable >= 5);
    CHECK(outcomes.ok > 0);
  }

  SECTION("stalled connections time out and are retried") {
    (*proxy)->SetFaultRate(0.5, {Fault::kStall});
    Outcomes outcomes;
    // A concurrent batch opens several connections, so some of them stall.
    check_random_batch(outcomes);
    CHECK((*proxy)->counts().stalls >= 1);
    CHECK(outcomes.ok > 0);
  }

  SECTION("a persistent fault fails within the retry budget, naming the status") {
    (*proxy)->SetFaultRate(1.0, {Fault::k503});
    auto start = std::chrono::steady_clock::now();
    auto r = c.ReadBlobRange(ref, big.digest, 0, 100);
    auto took = std::chrono::steady_clock::now() - start;
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kUnavailable);
    CHECK(std::string(r.status().message()).find("503") != std::string::npos);
    CHECK(took < options.retry.budget + std::chrono::seconds(3));
  }

  SECTION("pushes under faults either land intact or fail clearly") {
    (*proxy)->SetFaultRate(0.3, {Fault::kReset, Fault::k503, Fault::kTruncate});
    // The first connections fail for sure; truncation cuts the upload (client to registry) too.
    (*proxy)->FailNextConnections({Fault::k503, Fault::kTruncate, Fault::kReset, Fault::kTruncate});
    TestBlob blob = MakeBlob((3 << 20) + 17, 71);
    PushBlobOptions chunked;
    chunked.chunk_size = 512 << 10;
    auto pushed = c.PushBlob(ref, blob.digest, blob.bytes, chunked);
    auto counts = (*proxy)->counts();
    CHECK(counts.resets + counts.truncations + counts.unavailable >= 1);
    if (!pushed.ok()) {
      INFO(pushed.status().ToString());
      CHECK(std::string(pushed.status().message()).find(host) != std::string::npos);
      (*proxy)->SetFaultRate(0);
      pushed = c.PushBlob(ref, blob.digest, blob.bytes, chunked);
      REQUIRE(pushed.ok());
    }
    auto stored = direct.FetchBlobBytes(upstream_ref, blob.digest);
    REQUIRE(stored.ok());
    CHECK(*stored == blob.bytes);
  }

  // Whatever happened above, once the faults stop every read succeeds.
  (*proxy)->SetFaultRate(0);
  for (int i = 0; i < 10; ++i) {
    ByteRange r = random_range();
    auto got = c.ReadBlobRange(ref, big.digest, r.offset, r.length);
    REQUIRE(got.ok());
    CHECK(*got == big.bytes.substr(r.offset, r.length));
  }
  auto whole = c.FetchBlobBytes(ref, big.digest);
  REQUIRE(whole.ok());
  CHECK(*whole == big.bytes);
}

TEST_CASE_METHOD(RegistryFixture,
                 "Sequential requests reuse their connection (every request has a new curl handle)") {
  PushedImage image = PushRandomImage(*client, Ref("keepalive/app:v1"), {1 << 20}, 63);
  const TestBlob& blob = image.layers[0];
  auto proxy = FaultProxy::Start(registry->port(), 20261205);
  REQUIRE(proxy.ok());
  auto through_proxy = NewClient(FastOptions(dir));
  Reference ref = ParseRef((*proxy)->host() + "/keepalive/app");
  for (uint64_t i = 0; i < 20; ++i) {
    auto got = through_proxy->ReadBlobRange(ref, blob.digest, i * 1000, 1000);
    REQUIRE(got.ok());
    CHECK(*got == blob.bytes.substr(i * 1000, 1000));
  }
  CHECK((*proxy)->counts().connections <= 2);
}

TEST_CASE_METHOD(RegistryFixture, "A registry that trickles bytes: a read with a deadline ends by it") {
  PushedImage image = PushRandomImage(*client, Ref("trickle/app:v1"), {1 << 20}, 62);
  const TestBlob& blob = image.layers[0];
  auto proxy = FaultProxy::Start(registry->port(), 20261204);
  REQUIRE(proxy.ok());
  auto through_proxy = NewClient(FastOptions(dir));
  auto reader = through_proxy->OpenBlob(ParseRef((*proxy)->host() + "/trickle/app"), blob.digest);
  REQUIRE(reader.ok());
  std::string out(256 << 10, '\0');
  // A clean read first, so the trickle also hits a pooled keep-alive connection.
  REQUIRE((*reader)->ReadInto(0, std::span<char>(out.data(), 4096)).ok());

  (*proxy)->SetTrickle(true);
  // At 5 B/s the transfer stays above curl's low-speed limit and would take half a day.
  const auto timeout = std::chrono::seconds(2);
  auto start = std::chrono::steady_clock::now();
  absl::Status st = (*reader)->ReadInto(0, std::span<char>(out.data(), out.size()), {}, start + timeout);
  auto took = std::chrono::steady_clock::now() - start;
  INFO(st.ToString());
  CHECK(st.code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(std::string(st.message()).find((*proxy)->host()) != std::string::npos);
  CHECK(took >= timeout - std::chrono::milliseconds(50));
  CHECK(took < timeout + std::chrono::seconds(3));

  // A deadline that has already passed sends nothing.
  int connections = (*proxy)->counts().connections;
  st = (*reader)->ReadInto(0, std::span<char>(out.data(), 10), {}, std::chrono::steady_clock::now());
  CHECK(st.code() == absl::StatusCode::kDeadlineExceeded);
  CHECK((*proxy)->counts().connections == connections);

  (*proxy)->SetTrickle(false);
  REQUIRE((*reader)->ReadInto(0, std::span<char>(out.data(), out.size())).ok());
  CHECK(out == blob.bytes.substr(0, out.size()));
}

}  // namespace
}  // namespace tide::registry
