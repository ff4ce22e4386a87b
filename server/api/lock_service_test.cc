#include "server/api/lock_service.h"

#include <chrono>
#include <future>
#include <thread>

#include "server/api/member_fixture.h"

namespace cairn::api {
namespace {

class LockServiceTest : public MemberFixture {
 protected:
  void SetUp() override {
    MemberFixture::SetUp();
    lock_ = v3lockpb::Lock::NewStub(channel_);
    kv_ = etcdserverpb::KV::NewStub(channel_);
  }

  grpc::Status Lock(int64_t lease, v3lockpb::LockResponse* response,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + timeout);
    v3lockpb::LockRequest request;
    request.set_name("mylock");
    request.set_lease(lease);
    return lock_->Lock(&ctx, request, response);
  }

  grpc::Status Unlock(const std::string& key) {
    grpc::ClientContext ctx;
    v3lockpb::UnlockRequest request;
    request.set_key(key);
    v3lockpb::UnlockResponse response;
    return lock_->Unlock(&ctx, request, &response);
  }

  int64_t WaitersAndHolders() {
    grpc::ClientContext ctx;
    etcdserverpb::RangeRequest range;
    range.set_key("mylock/");
    range.set_range_end("mylock0");
    etcdserverpb::RangeResponse response;
    EXPECT_TRUE(kv_->Range(&ctx, range, &response).ok());
    return response.count();
  }

  std::unique_ptr<v3lockpb::Lock::Stub> lock_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
};

TEST_F(LockServiceTest, SecondLeaseWaitsUntilUnlockThenAcquires) {
  const int64_t a = GrantLease(0x1a), b = GrantLease(0x1b);
  v3lockpb::LockResponse first;
  ASSERT_TRUE(Lock(a, &first).ok());
  EXPECT_EQ(first.key(), "mylock/1a");
  auto second = std::async(std::launch::async, [&] {
    v3lockpb::LockResponse r;
    grpc::Status st = Lock(b, &r);
    return std::make_pair(st.ok(), r.key());
  });
  EXPECT_EQ(second.wait_for(std::chrono::milliseconds(500)), std::future_status::timeout) << "both hold the lock";
  ASSERT_TRUE(Unlock(first.key()).ok());
  ASSERT_EQ(second.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(second.get(), std::make_pair(true, std::string("mylock/1b")));
}

TEST_F(LockServiceTest, WaiterWhoseDeadlinePassesLeavesTheLine) {
  const int64_t a = GrantLease(0x2a), b = GrantLease(0x2b);
  v3lockpb::LockResponse held;
  ASSERT_TRUE(Lock(a, &held).ok());
  v3lockpb::LockResponse waited;
  grpc::Status st = Lock(b, &waited, std::chrono::milliseconds(300));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // The abandoned waiter's key is removed, so it cannot block later lockers.
  for (int i = 0; i < 50 && WaitersAndHolders() != 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(WaitersAndHolders(), 1);
}

TEST_F(LockServiceTest, RevokingTheHoldersLeaseReleasesTheLock) {
  const int64_t a = GrantLease(0x3a), b = GrantLease(0x3b);
  v3lockpb::LockResponse held;
  ASSERT_TRUE(Lock(a, &held).ok());
  auto second = std::async(std::launch::async, [&] {
    v3lockpb::LockResponse r;
    return Lock(b, &r).ok();
  });
  // Held by a: b must wait (a lock that let both in would pass everything below).
  ASSERT_EQ(second.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout)
      << "the second locker got the lock while the first held it";
  cairnpb::RaftRequest revoke;
  revoke.mutable_lease_revoke()->set_id(a);
  ASSERT_TRUE(server_->Propose(revoke).ok());
  ASSERT_EQ(second.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(second.get());
}

TEST_F(LockServiceTest, LockWithAnUnknownLeaseFails) {
  v3lockpb::LockResponse r;
  grpc::Status st = Lock(0x999, &r);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(), "etcdserver: requested lease not found");
}

}  // namespace
}  // namespace cairn::api
