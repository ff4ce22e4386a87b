// Kube client against the fake API server: auth header, optimistic concurrency (409 and
// the conflict-retry helper), status subresource and generation, merge patch, delete,
// label-selected lists, watch streams (events, bookmarks, stop), 410 expiry in both
// shapes the real API server uses, and deadlines against a server that never answers.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <mutex>
#include <thread>

#include "operator/kube/api_error.h"
#include "operator/kube/client.h"
#include "operator/kube/conflict_retry.h"
#include "operator/tests/fake_apiserver.h"

namespace cairn::op::kube {
namespace {

using json = nlohmann::json;
using testing::FakeApiServer;

std::unique_ptr<Client> NewClient(const KubeConfig& config, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto c = Client::Create(config, ClientOptions{timeout});
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(c).value();
}

json Cluster(const std::string& name, int replicas) {
  return {{"apiVersion", "etcd.cairn.dev/v1alpha1"}, {"kind", "EtcdCluster"},
          {"metadata", {{"name", name}, {"labels", {{"app", "x"}}}}}, {"spec", {{"replicas", replicas}}}};
}

TEST(KubeClient, RequestsCarryTheBearerTokenAndAreRejectedWithoutIt) {
  FakeApiServer fake;
  KubeConfig anonymous = fake.Config();
  anonymous.token.clear();
  auto r = NewClient(anonymous)->Get(types::ConfigMap(), "ns", "x");
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << r.status().ToString();
  r = NewClient(fake.Config())->Get(types::ConfigMap(), "ns", "x");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << r.status().ToString();
}

TEST(KubeClient, StaleUpdateIsAConflictAndDuplicateCreateAlreadyExists) {
  FakeApiServer fake;
  auto c = NewClient(fake.Config());
  auto created = c->Create(types::EtcdCluster(), "ns", Cluster("a", 3));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ((*created)["metadata"]["generation"], 1);
  EXPECT_EQ(c->Create(types::EtcdCluster(), "ns", Cluster("a", 3)).status().code(), StatusCode::kAlreadyExists);

  json first = *created, second = *created;
  first["spec"]["replicas"] = 5;
  ASSERT_TRUE(c->Update(types::EtcdCluster(), "ns", first).ok());
  second["spec"]["replicas"] = 1;  // still carries the old resourceVersion
  auto stale = c->Update(types::EtcdCluster(), "ns", second);
  EXPECT_EQ(stale.status().code(), StatusCode::kAborted) << stale.status().ToString();
  EXPECT_EQ(fake.Object(types::EtcdCluster(), "ns", "a").value()["spec"]["replicas"], 5);

  // Custom resources need the precondition; built-in types accept unconditional updates.
  json unconditional = first;
  unconditional["metadata"].erase("resourceVersion");
  EXPECT_EQ(c->Update(types::EtcdCluster(), "ns", unconditional).status().code(), StatusCode::kInvalidArgument);
}

TEST(KubeClient, StatusSubresourceSeparatesSpecAndStatusWrites) {
  FakeApiServer fake;
  auto c = NewClient(fake.Config());
  json obj = *c->Create(types::EtcdCluster(), "ns", Cluster("a", 3));

  json main = obj;
  main["spec"]["replicas"] = 4;
  main["status"] = {{"phase", "Ignored"}};
  json after_main = *c->Update(types::EtcdCluster(), "ns", main);
  EXPECT_FALSE(after_main.contains("status"));
  EXPECT_EQ(after_main["spec"]["replicas"], 4);
  EXPECT_EQ(after_main["metadata"]["generation"], 2);

  json st = after_main;
  st["spec"]["replicas"] = 9;  // ignored by PUT .../status
  st["status"] = {{"phase", "Running"}};
  auto after_status = c->UpdateStatus(types::EtcdCluster(), "ns", st);
  ASSERT_TRUE(after_status.ok()) << after_status.status().ToString();
  EXPECT_EQ((*after_status)["status"]["phase"], "Running");
  EXPECT_EQ((*after_status)["spec"]["replicas"], 4);
  EXPECT_EQ((*after_status)["metadata"]["generation"], 2);
  EXPECT_NE((*after_status)["metadata"]["resourceVersion"], after_main["metadata"]["resourceVersion"]);
}

TEST(KubeClient, UpdateWithRetryRereadsAfterAConflict) {
  FakeApiServer fake;
  auto c = NewClient(fake.Config());
  ASSERT_TRUE(c->Create(types::ConfigMap(), "ns", {{"metadata", {{"name", "cm"}}}, {"data", {{"a", "1"}}}}).ok());
  int calls = 0;
  auto r = UpdateWithRetry(*c, types::ConfigMap(), "ns", "cm", [&](json& obj) {
    if (++calls == 1) {
      // Someone else writes between our read and our write.
      json other = obj;
      other["data"]["b"] = "2";
      fake.Upsert(types::ConfigMap(), "ns", other);
    }
    obj["data"]["c"] = "3";
    return true;
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(calls, 2);
  json live = fake.Object(types::ConfigMap(), "ns", "cm").value();
  EXPECT_EQ(live["data"], json({{"a", "1"}, {"b", "2"}, {"c", "3"}}));
  EXPECT_EQ(fake.CountRequests("PUT /api/v1/namespaces/ns/configmaps/cm"), 2);

  // Nothing to change: no write at all.
  ASSERT_TRUE(UpdateWithRetry(*c, types::ConfigMap(), "ns", "cm", [](json&) { return false; }).ok());
  EXPECT_EQ(fake.CountRequests("PUT /api/v1/namespaces/ns/configmaps/cm"), 2);
}

TEST(KubeClient, MergePatchAppliesAndHonoursAResourceVersionPrecondition) {
  FakeApiServer fake;
  auto c = NewClient(fake.Config());
  json pvc = *c->Create(types::PersistentVolumeClaim(), "ns", {{"metadata", {{"name", "data-c-0"}}}, {"spec", json::object()}});
  auto patched = c->MergePatch(types::PersistentVolumeClaim(), "ns", "data-c-0",
                               {{"metadata", {{"annotations", {{"etcd.cairn.dev/member-id", "abc"}}}}}});
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  EXPECT_EQ((*patched)["metadata"]["annotations"]["etcd.cairn.dev/member-id"], "abc");
  EXPECT_EQ((*patched)["metadata"]["generation"], 1);  // metadata-only change
  auto stale = c->MergePatch(types::PersistentVolumeClaim(), "ns", "data-c-0",
                             {{"metadata", {{"resourceVersion", pvc["metadata"]["resourceVersion"]}, {"labels", {{"x", "y"}}}}}});
  EXPECT_EQ(stale.status().code(), StatusCode::kAborted);
}

TEST(KubeClient, DeleteRemovesAndListFiltersByLabel) {
  FakeApiServer fake;
  auto c = NewClient(fake.Config());
  fake.Upsert(types::Pod(), "ns", {{"metadata", {{"name", "p0"}, {"labels", {{"app", "a"}}}}}});
  fake.Upsert(types::Pod(), "ns", {{"metadata", {{"name", "p1"}, {"labels", {{"app", "b"}}}}}});
  fake.Upsert(types::Pod(), "other", {{"metadata", {{"name", "p2"}, {"labels", {{"app", "a"}}}}}});
  auto l = c->List(types::Pod(), "ns", "app=a");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  ASSERT_EQ(l->items.size(), 1u);
  EXPECT_EQ(l->items[0]["metadata"]["name"], "p0");
  EXPECT_EQ(l->resource_version, std::to_string(fake.resource_version()));
  EXPECT_EQ(c->List(types::Pod(), "", "app=a")->items.size(), 2u);  // all namespaces

  ASSERT_TRUE(c->Delete(types::Pod(), "ns", "p0").ok());
  EXPECT_FALSE(fake.Object(types::Pod(), "ns", "p0").has_value());
  EXPECT_EQ(c->Delete(types::Pod(), "ns", "p0").code(), StatusCode::kNotFound);
}

// Runs a watch on a thread, collecting events until stopped.
class WatchRun {
 public:
  WatchRun(Client& c, const ResourceType& type, const std::string& ns, WatchOptions o) {
    result_ = std::async(std::launch::async, [&c, &type, ns, o, this] {
      return c.Watch(type, ns, o, [this](const WatchEvent& e) {
        std::lock_guard<std::mutex> lock(mu_);
        events_.push_back(e);
      }, stop_.get_token());
    });
  }
  ~WatchRun() { stop_.request_stop(); }
  bool WaitFor(size_t n) {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (events_.size() >= n) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  std::vector<WatchEvent> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  Status Stop() {
    stop_.request_stop();
    EXPECT_EQ(result_.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    return result_.get();
  }
  std::future<Status>& result() { return result_; }

 private:
  std::stop_source stop_;
  std::mutex mu_;
  std::vector<WatchEvent> events_;
  std::future<Status> result_;
};

TEST(KubeClient, WatchStreamsChangesAfterTheListVersionAndBookmarks) {
  FakeApiServer fake;
  auto c = NewClient(fake.Config());
  fake.Upsert(types::ConfigMap(), "ns", {{"metadata", {{"name", "before"}}}});
  std::string rv = c->List(types::ConfigMap(), "ns")->resource_version;

  WatchRun w(*c, types::ConfigMap(), "ns", WatchOptions{rv, "", true, 30});
  fake.Upsert(types::ConfigMap(), "ns", {{"metadata", {{"name", "a"}}}, {"data", {{"k", "1"}}}});
  fake.Upsert(types::ConfigMap(), "ns", {{"metadata", {{"name", "a"}}}, {"data", {{"k", "2"}}}});
  fake.Upsert(types::ConfigMap(), "elsewhere", {{"metadata", {{"name", "z"}}}});
  fake.Remove(types::ConfigMap(), "ns", "a");
  ASSERT_TRUE(w.WaitFor(3));
  fake.Bookmark();
  ASSERT_TRUE(w.WaitFor(4));
  auto ev = w.events();
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].type, "ADDED");
  EXPECT_EQ(ev[0].object["metadata"]["name"], "a");  // "before" is not replayed
  EXPECT_EQ(ev[1].type, "MODIFIED");
  EXPECT_EQ(ev[1].object["data"]["k"], "2");
  EXPECT_EQ(ev[2].type, "DELETED");
  EXPECT_EQ(ev[3].type, "BOOKMARK");
  EXPECT_EQ(ev[3].object["metadata"]["resourceVersion"], std::to_string(fake.resource_version()));
  EXPECT_TRUE(w.Stop().ok());
}

TEST(KubeClient, WatchEndsOkWhenTheServerClosesTheStream) {
  FakeApiServer fake;
  auto c = NewClient(fake.Config());
  WatchRun w(*c, types::ConfigMap(), "ns", WatchOptions{"1", "", true, 30});
  for (int i = 0; i < 200 && fake.open_watches() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  fake.CloseWatches();
  ASSERT_EQ(w.result().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(w.result().get().ok());
}

TEST(KubeClient, WatchFromACompactedVersionIsOutOfRangeAsErrorEvent) {
  FakeApiServer fake;
  auto c = NewClient(fake.Config());
  fake.Upsert(types::ConfigMap(), "ns", {{"metadata", {{"name", "a"}}}});
  fake.Upsert(types::ConfigMap(), "ns", {{"metadata", {{"name", "b"}}}});
  fake.Compact();
  std::stop_source stop;
  auto s = c->Watch(types::ConfigMap(), "ns", WatchOptions{"2", "", true, 30}, [](const WatchEvent&) {}, stop.get_token());
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange) << s.ToString();
}

TEST(KubeClient, WatchFromACompactedVersionIsOutOfRangeAsHttp410) {
  FakeApiServer::Options o;
  o.expiry_as_http_410 = true;
  FakeApiServer fake(o);
  auto c = NewClient(fake.Config());
  fake.Upsert(types::ConfigMap(), "ns", {{"metadata", {{"name", "a"}}}});
  fake.Compact();
  auto s = c->Watch(types::ConfigMap(), "ns", WatchOptions{"1", "", true, 30}, [](const WatchEvent&) {});
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange) << s.ToString();
}

TEST(KubeClient, CallsToAServerThatNeverAnswersHitTheDeadline) {
  // Accepted by the kernel's backlog, never read or answered.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  KubeConfig cfg;
  cfg.server = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  cfg.token = "t";
  auto c = NewClient(cfg, std::chrono::milliseconds(300));
  auto start = std::chrono::steady_clock::now();
  auto r = c->Get(types::ConfigMap(), "ns", "x");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  EXPECT_LT(took, std::chrono::seconds(3));
  ::close(fd);
}

TEST(KubeClient, AWatchThatGoesSilentPastItsTimeoutFails) {
  // Answers the watch with headers and one event, then never sends another byte nor
  // closes: a half-dead connection. The client must give up, not hang.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::atomic<int> conn{-1};
  std::thread server([&] {
    int c = ::accept(fd, nullptr, nullptr);
    conn = c;
    char buf[4096];
    (void)::recv(c, buf, sizeof(buf), 0);
    std::string ev = R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"5"}}})" "\n";
    char size[16];
    std::snprintf(size, sizeof(size), "%zx\r\n", ev.size());
    std::string out = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
                      std::string(size) + ev + "\r\n";
    (void)::send(c, out.data(), out.size(), MSG_NOSIGNAL);
  });
  KubeConfig cfg;
  cfg.server = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  auto c = NewClient(cfg, std::chrono::milliseconds(300));
  int events = 0;
  auto start = std::chrono::steady_clock::now();
  Status s = c->Watch(types::ConfigMap(), "ns", WatchOptions{"1", "", true, 1}, [&](const WatchEvent&) { ++events; });
  auto took = std::chrono::steady_clock::now() - start;
  server.join();
  EXPECT_EQ(events, 1);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(IsRetryable(s)) << s.ToString();
  EXPECT_LT(took, std::chrono::seconds(5));
  ::close(conn);
  ::close(fd);
}

TEST(KubeClient, InjectedServerErrorsMapToRetryableCodes) {
  FakeApiServer fake;
  auto c = NewClient(fake.Config());
  fake.InjectError("GET /api/v1/namespaces/ns/configmaps", 503, "ServiceUnavailable");
  EXPECT_EQ(c->List(types::ConfigMap(), "ns").status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(c->List(types::ConfigMap(), "ns").ok());
}

}  // namespace
}  // namespace cairn::op::kube
