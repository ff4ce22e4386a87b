// EventRecorder against the fake API server, with a controlled clock:
//   * the first occurrence creates a core/v1 Event referencing the object (uid and
//     resourceVersion included); repeats within the window PATCH count and lastTimestamp
//     instead of creating; a new message, a new type or the window passing creates anew;
//   * an Event the API server expired is created again on the next occurrence;
//   * the spam filter caps writes per object and reason at the burst, then one per
//     refill, and the occurrences it suppressed are still counted in the next write.
#include <gtest/gtest.h>

#include <set>

#include "operator/controller/event_recorder.h"
#include "operator/tests/fake_apiserver.h"

namespace cairn::op {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using testing::FakeApiServer;
namespace types = kube::types;

class EventRecorderTest : public ::testing::Test {
 protected:
  EventRecorderTest() : client_(std::move(kube::Client::Create(fake_.Config())).value()) {
    cluster_ = fake_.Upsert(types::EtcdCluster(), "db", {{"apiVersion", "etcd.cairn.dev/v1alpha1"},
                                                         {"kind", "EtcdCluster"},
                                                         {"metadata", {{"name", "etcd"}}}});
  }
  EventRecorder Recorder(int burst = 25) {
    EventRecorderOptions o;
    o.instance = "operator-a";
    o.burst = burst;
    o.clock = [this] { return now_; };
    return EventRecorder(*client_, o);
  }
  std::vector<json> Events() { return fake_.Objects(types::Event(), "db"); }
  int Writes(const std::string& method) { return fake_.CountRequests(method + " /api/v1/namespaces/db/events"); }

  FakeApiServer fake_;
  std::unique_ptr<kube::Client> client_;
  json cluster_;
  TimePoint now_ = Clock::from_time_t(1'800'000'000);
};

TEST_F(EventRecorderTest, FirstOccurrenceCreatesAnEventAboutTheObject) {
  EventRecorder r = Recorder();
  ASSERT_TRUE(r.Record(cluster_, EventType::kNormal, "AddingLearner", "adding learner etcd-3").ok());
  auto events = Events();
  ASSERT_EQ(events.size(), 1u);
  const json& e = events[0];
  EXPECT_EQ(e["type"], "Normal");
  EXPECT_EQ(e["reason"], "AddingLearner");
  EXPECT_EQ(e["message"], "adding learner etcd-3");
  EXPECT_EQ(e["count"], 1);
  EXPECT_EQ(e["firstTimestamp"], "2027-01-15T08:00:00Z");
  EXPECT_EQ(e["lastTimestamp"], "2027-01-15T08:00:00Z");
  EXPECT_EQ(e["source"]["component"], "cairn-operator");
  EXPECT_EQ(e["reportingComponent"], "cairn-operator");
  EXPECT_EQ(e["reportingInstance"], "operator-a");
  const json& io = e["involvedObject"];
  EXPECT_EQ(io["kind"], "EtcdCluster");
  EXPECT_EQ(io["apiVersion"], "etcd.cairn.dev/v1alpha1");
  EXPECT_EQ(io["namespace"], "db");
  EXPECT_EQ(io["name"], "etcd");
  EXPECT_EQ(io["uid"], cluster_["metadata"]["uid"]);
  EXPECT_EQ(io["resourceVersion"], cluster_["metadata"]["resourceVersion"]);
  EXPECT_EQ(e["metadata"]["name"].get<std::string>().rfind("etcd.", 0), 0u);
}

TEST_F(EventRecorderTest, RepeatsWithinTheWindowArePatchedNotCreated) {
  EventRecorder r = Recorder();
  ASSERT_TRUE(r.Record(cluster_, EventType::kWarning, "FailedAddLearner", "connection refused").ok());
  for (int i = 0; i < 4; ++i) {
    now_ += 30s;
    ASSERT_TRUE(r.Record(cluster_, EventType::kWarning, "FailedAddLearner", "connection refused").ok());
  }
  auto events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["count"], 5);
  EXPECT_EQ(events[0]["firstTimestamp"], "2027-01-15T08:00:00Z");
  EXPECT_EQ(events[0]["lastTimestamp"], "2027-01-15T08:02:00Z");
  EXPECT_EQ(Writes("POST"), 1);
  EXPECT_EQ(Writes("PATCH"), 4);

  // Another message, or the same one as a Normal event, is another Event.
  ASSERT_TRUE(r.Record(cluster_, EventType::kWarning, "FailedAddLearner", "deadline exceeded").ok());
  ASSERT_TRUE(r.Record(cluster_, EventType::kNormal, "FailedAddLearner", "connection refused").ok());
  EXPECT_EQ(Events().size(), 3u);

  // Once the window has passed, a repeat starts a new Event with its own count.
  now_ += 11min;
  ASSERT_TRUE(r.Record(cluster_, EventType::kWarning, "FailedAddLearner", "connection refused").ok());
  std::multiset<int> counts;
  for (const auto& e : Events()) {
    if (e["type"] == "Warning" && e["message"] == "connection refused") counts.insert(e["count"].get<int>());
  }
  EXPECT_EQ(counts, (std::multiset<int>{1, 5}));
}

TEST_F(EventRecorderTest, AnExpiredEventIsCreatedAgain) {
  EventRecorder r = Recorder();
  ASSERT_TRUE(r.Record(cluster_, EventType::kNormal, "PromotingLearner", "promoting etcd-3").ok());
  fake_.Remove(types::Event(), "db", Events()[0]["metadata"]["name"]);  // the API server's event TTL
  ASSERT_TRUE(r.Record(cluster_, EventType::kNormal, "PromotingLearner", "promoting etcd-3").ok());
  auto events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["count"], 2);
}

TEST_F(EventRecorderTest, TheSpamFilterCapsWritesPerObjectAndKeepsCounting) {
  EventRecorder r = Recorder(/*burst=*/5);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(r.Record(cluster_, EventType::kWarning, "ReadFailed", "error " + std::to_string(i % 3)).ok());
  }
  EXPECT_EQ(Writes("POST") + Writes("PATCH"), 5);
  EXPECT_EQ(Events().size(), 3u);

  // Another object, or another reason, has its own budget: a looping failure does not
  // silence the steps that follow it.
  json other = fake_.Upsert(types::EtcdCluster(), "db", {{"apiVersion", "etcd.cairn.dev/v1alpha1"},
                                                         {"kind", "EtcdCluster"}, {"metadata", {{"name", "other"}}}});
  ASSERT_TRUE(r.Record(other, EventType::kWarning, "ReadFailed", "error 0").ok());
  ASSERT_TRUE(r.Record(cluster_, EventType::kNormal, "AddingLearner", "adding etcd-3").ok());
  EXPECT_EQ(Events().size(), 5u);

  // One token per refill interval (5 minutes); the write carries every occurrence.
  now_ += 5min;
  ASSERT_TRUE(r.Record(cluster_, EventType::kWarning, "ReadFailed", "error 0").ok());
  ASSERT_TRUE(r.Record(cluster_, EventType::kWarning, "ReadFailed", "error 0").ok());
  EXPECT_EQ(Writes("POST") + Writes("PATCH"), 8);
  for (const auto& e : Events()) {
    if (e["involvedObject"]["name"] == "etcd" && e["message"] == "error 0") {
      EXPECT_EQ(e["count"], 18);
    }
  }
}

TEST_F(EventRecorderTest, LongMessagesAreTruncated) {
  EventRecorder r = Recorder();
  ASSERT_TRUE(r.Record(cluster_, EventType::kWarning, "ReadFailed", std::string(5000, 'x')).ok());
  EXPECT_EQ(Events()[0]["message"].get<std::string>().size(), 1024u);
}

TEST_F(EventRecorderTest, TheFakeRejectsAnEventOutsideItsObjectsNamespace) {
  auto r = client_->Create(types::Event(), "other", {{"metadata", {{"name", "x"}}},
                                                     {"involvedObject", {{"namespace", "db"}, {"name", "etcd"}}}});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::op
