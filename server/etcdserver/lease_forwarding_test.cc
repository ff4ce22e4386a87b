#include "server/etcdserver/lease_forwarding.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "server/etcdserver/errors.h"

namespace cairn::etcdserver {
namespace {

// Stands in for the leader on the other end of the peer connection.
struct FakeLeader final : LeaderLeaseClient {
  std::vector<std::string> called_urls;
  Status refusal = Status::Ok();  // what the leader answers instead, when set
  Result<int64_t> Renew(const std::vector<std::string>& urls, int64_t, std::chrono::milliseconds) override {
    called_urls = urls;
    if (!refusal.ok()) return refusal;
    return int64_t{77};
  }
  Result<etcdserverpb::LeaseTimeToLiveResponse> TimeToLive(const std::vector<std::string>& urls,
                                                           const etcdserverpb::LeaseTimeToLiveRequest& request,
                                                           std::chrono::milliseconds) override {
    called_urls = urls;
    if (!refusal.ok()) return refusal;
    etcdserverpb::LeaseTimeToLiveResponse response;
    response.set_id(request.id());
    response.set_ttl(55);
    return response;
  }
};

class LeaseForwardingTest : public ::testing::Test {
 protected:
  LeaseForwardingTest() {
    EXPECT_TRUE(lessor_.Grant(1, 30).ok());
    lessor_.Promote();
  }

  LeaseForwarding Forwarding() {
    return LeaseForwarding({.self = 0x1,
                            .lessor = &lessor_,
                            .leader = [this]() -> Result<LeaseForwarding::Leader> {
                              if (!leader_) return ErrNoLeader();
                              return *leader_;
                            },
                            .read_barrier = [this] {
                              ++read_barriers_;
                              return Status::Ok();
                            },
                            .client = &remote_,
                            .timeout = std::chrono::milliseconds(100)});
  }

  lease::Lessor lessor_{1, std::chrono::seconds(300), [] { return lease::Clock::now(); }};
  std::optional<LeaseForwarding::Leader> leader_;
  int read_barriers_ = 0;
  FakeLeader remote_;
};

TEST_F(LeaseForwardingTest, LeaderAnswersFromItsLessor) {
  leader_ = LeaseForwarding::Leader{.is_self = true, .peer_urls = {}};
  auto forwarding = Forwarding();
  auto ttl = forwarding.Renew(1);
  ASSERT_TRUE(ttl.ok()) << ttl.status().ToString();
  EXPECT_EQ(*ttl, 30);
  etcdserverpb::LeaseTimeToLiveRequest request;
  request.set_id(1);
  auto answer = forwarding.TimeToLive(request);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->grantedttl(), 30);
  EXPECT_EQ(read_barriers_, 1) << "a TTL answer must reflect every write committed before it";
  request.set_id(2);
  EXPECT_EQ(forwarding.TimeToLive(request)->ttl(), -1) << "etcd's answer for a missing lease";
  EXPECT_TRUE(remote_.called_urls.empty());
}

TEST_F(LeaseForwardingTest, FollowerForwardsToTheLeadersPeerUrls) {
  leader_ = LeaseForwarding::Leader{.is_self = false, .peer_urls = {"http://leader:2380"}};
  auto forwarding = Forwarding();
  auto ttl = forwarding.Renew(1);
  ASSERT_TRUE(ttl.ok());
  EXPECT_EQ(*ttl, 77);
  EXPECT_EQ(remote_.called_urls, std::vector<std::string>{"http://leader:2380"});
  etcdserverpb::LeaseTimeToLiveRequest request;
  request.set_id(1);
  EXPECT_EQ(forwarding.TimeToLive(request)->ttl(), 55);
  EXPECT_EQ(read_barriers_, 0) << "the leader, not the follower, waits for its applied index";
}

TEST_F(LeaseForwardingTest, RefusalByAFormerLeaderIsReportedAsLeaderChanged) {
  leader_ = LeaseForwarding::Leader{.is_self = false, .peer_urls = {"http://old-leader:2380"}};
  remote_.refusal = Status::FailedPrecondition("member 2 is not the leader");
  auto forwarding = Forwarding();
  EXPECT_EQ(forwarding.Renew(1).status().message(), ErrLeaderChanged().message());
  remote_.refusal = Status::Unavailable("connection refused");
  EXPECT_EQ(forwarding.Renew(1).status().message(), "connection refused");
}

TEST_F(LeaseForwardingTest, WithoutALeaderNothingIsAnswered) {
  auto forwarding = Forwarding();
  EXPECT_EQ(forwarding.Renew(1).status().message(), ErrNoLeader().message());
  etcdserverpb::LeaseTimeToLiveRequest request;
  EXPECT_EQ(forwarding.TimeToLive(request).status().message(), ErrNoLeader().message());
  EXPECT_TRUE(remote_.called_urls.empty());
}

TEST_F(LeaseForwardingTest, OnlyTheLeaderAnswersForwardedCalls) {
  leader_ = LeaseForwarding::Leader{.is_self = false, .peer_urls = {"http://leader:2380"}};
  auto forwarding = Forwarding();
  EXPECT_EQ(forwarding.RenewAsLeader(1).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(forwarding.TimeToLiveAsLeader({}).status().code(), StatusCode::kFailedPrecondition);
  leader_ = LeaseForwarding::Leader{.is_self = true, .peer_urls = {}};
  EXPECT_TRUE(forwarding.RenewAsLeader(1).ok());
}

}  // namespace
}  // namespace cairn::etcdserver
