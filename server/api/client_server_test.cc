// ClientServer's shutdown: the calls that would never end by themselves end at once.
#include "server/api/client_server.h"

#include <chrono>
#include <future>
#include <thread>

#include "etcd/server/v3election/v3election.grpc.pb.h"
#include "etcd/server/v3lock/v3lock.grpc.pb.h"
#include "server/api/member_fixture.h"

namespace cairn::api {
namespace {

using Clock = std::chrono::steady_clock;

class ClientServerTest : public MemberFixture {
 protected:
  // The number of keys under `prefix`.
  int64_t KeysUnder(const std::string& prefix) {
    auto kv = etcdserverpb::KV::NewStub(channel_);
    grpc::ClientContext ctx;
    etcdserverpb::RangeRequest range;
    range.set_key(prefix);
    range.set_range_end(prefix.substr(0, prefix.size() - 1) + static_cast<char>(prefix.back() + 1));
    range.set_count_only(true);
    etcdserverpb::RangeResponse response;
    EXPECT_TRUE(kv->Range(&ctx, range, &response).ok());
    return response.count();
  }

  void WaitForKeys(const std::string& prefix, int64_t n) {
    for (int i = 0; i < 100 && KeysUnder(prefix) != n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_EQ(KeysUnder(prefix), n);
  }
};

// A Lock and a Campaign waiting their turn, an Observe waiting for a first leader and a
// lease keep-alive stream waiting for its client: etcd stops within milliseconds with
// all of these open. A member must too, rather than hold its shutdown for gRPC's
// deadline, and the waiters get etcd's "server stopped" (UNAVAILABLE, which clients
// retry on another member).
TEST_F(ClientServerTest, AStoppingMemberEndsTheCallsThatWouldWaitForever) {
  auto lock = v3lockpb::Lock::NewStub(channel_);
  auto election = v3electionpb::Election::NewStub(channel_);
  auto lease = etcdserverpb::Lease::NewStub(channel_);
  const int64_t holder = GrantLease(0xa), waiter = GrantLease(0xb), leader = GrantLease(0xc),
                candidate = GrantLease(0xd);

  auto lock_with = [&](int64_t id) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v3lockpb::LockRequest request;
    request.set_name("mylock");
    request.set_lease(id);
    v3lockpb::LockResponse response;
    return lock->Lock(&ctx, request, &response);
  };
  auto campaign_with = [&](int64_t id) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v3electionpb::CampaignRequest request;
    request.set_name("office");
    request.set_lease(id);
    request.set_value("v");
    v3electionpb::CampaignResponse response;
    return election->Campaign(&ctx, request, &response);
  };
  ASSERT_TRUE(lock_with(holder).ok());
  auto waiting_lock = std::async(std::launch::async, [&] { return lock_with(waiter); });
  ASSERT_TRUE(campaign_with(leader).ok());
  auto waiting_campaign = std::async(std::launch::async, [&] { return campaign_with(candidate); });
  auto observer = std::async(std::launch::async, [&] {
    grpc::ClientContext ctx;
    v3electionpb::LeaderRequest request;
    request.set_name("vacant");
    auto stream = election->Observe(&ctx, request);
    v3electionpb::LeaderResponse response;
    while (stream->Read(&response)) {
    }
    return stream->Finish();
  });
  grpc::ClientContext keep_alive_ctx;
  auto keep_alive = lease->LeaseKeepAlive(&keep_alive_ctx);
  etcdserverpb::LeaseKeepAliveRequest renew;
  renew.set_id(holder);
  ASSERT_TRUE(keep_alive->Write(renew));
  etcdserverpb::LeaseKeepAliveResponse renewed;
  ASSERT_TRUE(keep_alive->Read(&renewed));
  ASSERT_GT(renewed.ttl(), 0);
  // Both waiters are in line (their keys exist); the observer has had time to wait.
  WaitForKeys("mylock/", 2);
  WaitForKeys("office/", 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  const auto start = Clock::now();
  server_->Stop();
  clients_->Shutdown();
  const auto took = Clock::now() - start;
  clients_.reset();
  // Well under ClientServer's 1 s drain deadline, after which gRPC would cancel the
  // calls anyway: only ending them first stops this fast.
  EXPECT_LT(took, std::chrono::milliseconds(500));

  for (auto* waited : {&waiting_lock, &waiting_campaign, &observer}) {
    ASSERT_EQ(waited->wait_for(std::chrono::seconds(10)), std::future_status::ready);
    const grpc::Status st = waited->get();
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(st.error_message(), "etcdserver: server stopped");
  }
  EXPECT_FALSE(keep_alive->Read(&renewed));
  EXPECT_FALSE(keep_alive->Finish().ok());
}

}  // namespace
}  // namespace cairn::api
