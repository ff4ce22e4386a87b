// Informer against the fake API server: initial list then watch; a watch the server ends
// resumes from the last bookmark without re-listing even after the history window moved
// (and, as the control, re-lists without bookmarks); a 410 re-lists and reports what was
// missed, including deletions; list failures back off and recover.
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "operator/kube/informer.h"
#include "operator/tests/fake_apiserver.h"

namespace cairn::op::kube {
namespace {

using json = nlohmann::json;
using testing::FakeApiServer;

json Cm(const std::string& name, const std::string& v = "1") { return {{"metadata", {{"name", name}}}, {"data", {{"v", v}}}}; }

template <typename F>
bool Eventually(F f) {
  for (int i = 0; i < 500; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

class Harness {
 public:
  explicit Harness(FakeApiServer& fake, InformerOptions o = {}) {
    client_ = std::move(Client::Create(fake.Config(), ClientOptions{std::chrono::seconds(5)})).value();
    o.ns = o.ns.empty() ? "a" : o.ns;
    o.backoff_initial = std::chrono::milliseconds(20);
    o.backoff_max = std::chrono::milliseconds(100);
    informer_ = std::make_unique<Informer>(*client_, types::ConfigMap(), o, [this](const std::string& t, const json& obj) {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back(t + " " + obj["metadata"]["name"].get<std::string>());
    });
    thread_ = std::jthread([this](std::stop_token st) { informer_->Run(st); });
  }
  ~Harness() {
    thread_.request_stop();
    thread_.join();
  }
  Informer& informer() { return *informer_; }
  std::vector<std::string> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }
  bool Saw(const std::string& s) {
    return Eventually([&] {
      auto v = seen();
      return std::find(v.begin(), v.end(), s) != v.end();
    });
  }

 private:
  std::unique_ptr<Client> client_;
  std::unique_ptr<Informer> informer_;
  std::mutex mu_;
  std::vector<std::string> seen_;
  std::jthread thread_;
};

TEST(Informer, ListsThenWatchesIntoTheCache) {
  FakeApiServer fake;
  fake.Upsert(types::ConfigMap(), "a", Cm("x"));
  fake.Upsert(types::ConfigMap(), "b", Cm("other-namespace"));
  Harness h(fake);
  ASSERT_TRUE(Eventually([&] { return h.informer().HasSynced(); }));
  EXPECT_TRUE(h.Saw("ADDED x"));
  fake.Upsert(types::ConfigMap(), "a", Cm("y"));
  fake.Upsert(types::ConfigMap(), "a", Cm("x", "2"));
  fake.Remove(types::ConfigMap(), "a", "y");
  EXPECT_TRUE(h.Saw("DELETED y"));
  EXPECT_TRUE(h.Saw("MODIFIED x"));
  EXPECT_EQ(h.informer().Get("a", "x").value()["data"]["v"], "2");
  EXPECT_FALSE(h.informer().Get("a", "y").has_value());
  EXPECT_EQ(h.informer().List().size(), 1u);
  EXPECT_EQ(h.informer().lists(), 1);
}

// Changes elsewhere move the server's version on; after a bookmark the informer holds
// that version, so when history is compacted and the stream ends it resumes cleanly.
void BookmarkScenario(FakeApiServer& fake, Harness& h, bool bookmarks) {
  ASSERT_TRUE(Eventually([&] { return h.informer().HasSynced() && fake.open_watches() == 1; }));
  for (int i = 0; i < 5; ++i) fake.Upsert(types::ConfigMap(), "b", Cm("noise" + std::to_string(i)));
  fake.Bookmark();
  if (bookmarks) {
    ASSERT_TRUE(Eventually([&] { return h.informer().resource_version() == std::to_string(fake.resource_version()); }));
  } else {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // time a bookmark would have had
    ASSERT_NE(h.informer().resource_version(), std::to_string(fake.resource_version()));
  }
  fake.Compact();
  int watches = fake.CountRequests("WATCH /api/v1/namespaces/a/configmaps");
  fake.CloseWatches();
  ASSERT_TRUE(Eventually([&] { return fake.CountRequests("WATCH /api/v1/namespaces/a/configmaps") > watches &&
                                      fake.open_watches() == 1; }));
  fake.Upsert(types::ConfigMap(), "a", Cm("after"));
  EXPECT_TRUE(h.Saw("ADDED after"));
}

TEST(Informer, BookmarkLetsAnEndedWatchResumeWithoutRelisting) {
  FakeApiServer fake;
  Harness h(fake);
  BookmarkScenario(fake, h, true);
  EXPECT_EQ(h.informer().lists(), 1);
  EXPECT_EQ(fake.CountRequests("GET /api/v1/namespaces/a/configmaps"), 1);
}

TEST(Informer, WithoutBookmarksTheSameSequenceNeedsARelist) {
  FakeApiServer fake;
  InformerOptions o;
  o.bookmarks = false;
  Harness h(fake, o);
  BookmarkScenario(fake, h, false);
  EXPECT_EQ(h.informer().lists(), 2);
}

TEST(Informer, ExpiredVersionRelistsAndReportsWhatWasMissed) {
  for (bool as_http : {false, true}) {
    SCOPED_TRACE(as_http ? "HTTP 410" : "ERROR event 410");
    FakeApiServer::Options fo;
    fo.expiry_as_http_410 = as_http;
    FakeApiServer fake(fo);
    fake.Upsert(types::ConfigMap(), "a", Cm("gone"));
    fake.Upsert(types::ConfigMap(), "a", Cm("kept"));
    Harness h(fake);
    ASSERT_TRUE(Eventually([&] { return h.informer().HasSynced() && fake.open_watches() == 1; }));

    // The informer cannot watch while these changes happen and then fall out of history.
    fake.InjectError("WATCH /api/v1/namespaces/a/configmaps", 503, "ServiceUnavailable", 1000000);
    int watches = fake.CountRequests("WATCH /api/v1/namespaces/a/configmaps");
    fake.CloseWatches();
    ASSERT_TRUE(Eventually([&] { return fake.CountRequests("WATCH /api/v1/namespaces/a/configmaps") > watches + 1; }));
    fake.Remove(types::ConfigMap(), "a", "gone");
    fake.Upsert(types::ConfigMap(), "a", Cm("new"));
    fake.Upsert(types::ConfigMap(), "a", Cm("kept", "2"));
    fake.Compact();
    fake.ClearInjectedErrors();

    EXPECT_TRUE(h.Saw("DELETED gone"));
    EXPECT_TRUE(h.Saw("ADDED new"));
    EXPECT_TRUE(h.Saw("MODIFIED kept"));
    EXPECT_EQ(h.informer().lists(), 2);
    EXPECT_FALSE(h.informer().Get("a", "gone").has_value());
    EXPECT_EQ(h.informer().Get("a", "kept").value()["data"]["v"], "2");
  }
}

TEST(Informer, ListFailuresBackOffAndRecover) {
  FakeApiServer fake;
  fake.Upsert(types::ConfigMap(), "a", Cm("x"));
  fake.InjectError("GET /api/v1/namespaces/a/configmaps", 500, "InternalError", 3);
  Harness h(fake);
  ASSERT_TRUE(Eventually([&] { return h.informer().HasSynced(); }));
  EXPECT_EQ(fake.CountRequests("GET /api/v1/namespaces/a/configmaps"), 4);
  EXPECT_TRUE(h.informer().Get("a", "x").has_value());
}

}  // namespace
}  // namespace cairn::op::kube
