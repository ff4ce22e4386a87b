#include "server/api/election_service.h"

#include <chrono>
#include <future>
#include <set>
#include <string>
#include <thread>

#include "server/api/member_fixture.h"

namespace cairn::api {
namespace {

class ElectionServiceTest : public MemberFixture {
 protected:
  void SetUp() override {
    MemberFixture::SetUp();
    election_ = v3electionpb::Election::NewStub(channel_);
  }

  grpc::Status Campaign(int64_t lease, const std::string& value, v3electionpb::LeaderKey* leader) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v3electionpb::CampaignRequest request;
    request.set_name("race");
    request.set_lease(lease);
    request.set_value(value);
    v3electionpb::CampaignResponse response;
    grpc::Status st = election_->Campaign(&ctx, request, &response);
    *leader = response.leader();
    return st;
  }

  grpc::Status Proclaim(const v3electionpb::LeaderKey& leader, const std::string& value) {
    grpc::ClientContext ctx;
    v3electionpb::ProclaimRequest request;
    *request.mutable_leader() = leader;
    request.set_value(value);
    v3electionpb::ProclaimResponse response;
    return election_->Proclaim(&ctx, request, &response);
  }

  // The current leader's value, or the error message.
  std::string LeaderValue() {
    grpc::ClientContext ctx;
    v3electionpb::LeaderRequest request;
    request.set_name("race");
    v3electionpb::LeaderResponse response;
    grpc::Status st = election_->Leader(&ctx, request, &response);
    return st.ok() ? response.kv().value() : st.error_message();
  }

  grpc::Status Resign(const v3electionpb::LeaderKey& leader) {
    grpc::ClientContext ctx;
    v3electionpb::ResignRequest request;
    *request.mutable_leader() = leader;
    v3electionpb::ResignResponse response;
    return election_->Resign(&ctx, request, &response);
  }

  std::unique_ptr<v3electionpb::Election::Stub> election_;
};

TEST_F(ElectionServiceTest, NoLeaderUntilSomeoneCampaigns) { EXPECT_EQ(LeaderValue(), "election: no leader"); }

TEST_F(ElectionServiceTest, LeadershipProclamationsAndHandOverAreObservedInOrder) {
  const int64_t a = GrantLease(0xa1), b = GrantLease(0xb2);
  grpc::ClientContext observe_ctx;
  v3electionpb::LeaderRequest observe_request;
  observe_request.set_name("race");
  auto observer = election_->Observe(&observe_ctx, observe_request);

  v3electionpb::LeaderKey alpha;
  ASSERT_TRUE(Campaign(a, "alpha", &alpha).ok());
  EXPECT_EQ(alpha.key(), "race/a1");
  EXPECT_EQ(LeaderValue(), "alpha");
  auto second = std::async(std::launch::async, [&] {
    v3electionpb::LeaderKey beta;
    grpc::Status st = Campaign(b, "beta", &beta);
    return std::make_pair(st.ok(), beta.key());
  });
  EXPECT_EQ(second.wait_for(std::chrono::milliseconds(400)), std::future_status::timeout) << "two leaders";
  ASSERT_TRUE(Proclaim(alpha, "alpha-2").ok());
  EXPECT_EQ(LeaderValue(), "alpha-2");

  v3electionpb::LeaderKey stale = alpha;
  stale.set_rev(alpha.rev() + 1000);
  grpc::Status not_leader = Proclaim(stale, "usurper");
  EXPECT_EQ(not_leader.error_message(), "election: not leader");

  ASSERT_TRUE(Resign(alpha).ok());
  ASSERT_EQ(second.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(second.get(), std::make_pair(true, std::string("race/b2")));
  EXPECT_EQ(LeaderValue(), "beta");

  std::vector<std::string> observed;
  v3electionpb::LeaderResponse seen;
  while (observed.size() < 3 && observer->Read(&seen)) observed.push_back(seen.kv().value());
  EXPECT_EQ(observed, (std::vector<std::string>{"alpha", "alpha-2", "beta"}));
  observe_ctx.TryCancel();
}

// Every proclamation is observed, also when several land in one apply batch (a reader
// of "the current leader" after each wake-up would see only the last of them).
TEST_F(ElectionServiceTest, ObserveSendsEveryProclamationEvenWhenTheyCommitTogether) {
  const int64_t a = GrantLease(0xa1);
  v3electionpb::LeaderKey alpha;
  ASSERT_TRUE(Campaign(a, "alpha", &alpha).ok());
  grpc::ClientContext observe_ctx;
  // A missed proclamation shows as a failed read at the deadline, not a hang.
  observe_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v3electionpb::LeaderRequest observe_request;
  observe_request.set_name("race");
  auto observer = election_->Observe(&observe_ctx, observe_request);
  v3electionpb::LeaderResponse seen;
  ASSERT_TRUE(observer->Read(&seen));
  EXPECT_EQ(seen.kv().value(), "alpha");

  constexpr int kProclamations = 40;
  std::vector<std::thread> writers;
  for (int i = 0; i < kProclamations; ++i) {
    writers.emplace_back([&, i] { EXPECT_TRUE(Proclaim(alpha, "p" + std::to_string(i)).ok()); });
  }
  for (auto& w : writers) w.join();

  std::set<std::string> values;
  int64_t last_mod = seen.kv().mod_revision();
  while (values.size() < kProclamations && observer->Read(&seen)) {
    EXPECT_GT(seen.kv().mod_revision(), last_mod) << "out of order or repeated";
    last_mod = seen.kv().mod_revision();
    values.insert(seen.kv().value());
  }
  EXPECT_EQ(values.size(), static_cast<size_t>(kProclamations));
  observe_ctx.TryCancel();
}

}  // namespace
}  // namespace cairn::api
