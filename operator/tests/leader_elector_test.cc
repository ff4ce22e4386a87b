// Leader election against the fake API server with an injected clock: first acquire
// creates the Lease; a held, renewed lease is never taken; an unrenewed one is taken
// after leaseDuration of the candidate's own observation, bumping leaseTransitions; a
// leader whose renewals fail stops claiming leadership after renewDeadline; a racing
// write that conflicts loses; release hands over at once; and two real-clock electors
// running concurrently never lead at the same time.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "operator/leader/leader_elector.h"
#include "operator/tests/fake_apiserver.h"

namespace cairn::op {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using testing::FakeApiServer;

struct FakeClock {
  TimePoint now = TimePoint(std::chrono::seconds(1'800'000'000));
  LeaderElector::ClockFn fn() {
    return [this] { return now; };
  }
};

LeaderElectionConfig Config(const std::string& id) {
  LeaderElectionConfig c;
  c.ns = "ops";
  c.name = "cairn-operator";
  c.identity = id;
  c.lease_duration = 15s;
  c.renew_deadline = 10s;
  c.retry_period = 2s;
  return c;
}

class LeaderElection : public ::testing::Test {
 protected:
  std::unique_ptr<kube::Client> NewClient() {
    return std::move(kube::Client::Create(fake_.Config(), kube::ClientOptions{5s})).value();
  }
  json Lease() { return fake_.Object(kube::types::Lease(), "ops", "cairn-operator").value(); }

  FakeApiServer fake_;
  FakeClock clock_;
  std::unique_ptr<kube::Client> ca_ = NewClient(), cb_ = NewClient();
  LeaderElector a_{*ca_, Config("a"), clock_.fn()};
  LeaderElector b_{*cb_, Config("b"), clock_.fn()};
};

TEST_F(LeaderElection, FirstCandidateCreatesTheLeaseAndHoldsIt) {
  ASSERT_TRUE(a_.TryAcquireOrRenew());
  EXPECT_TRUE(a_.IsLeader());
  json spec = Lease()["spec"];
  EXPECT_EQ(spec["holderIdentity"], "a");
  EXPECT_EQ(spec["leaseDurationSeconds"], 15);
  EXPECT_EQ(spec["leaseTransitions"], 0);
  EXPECT_EQ(spec["acquireTime"], FormatMicroTime(clock_.now));
  EXPECT_EQ(spec["renewTime"], "2027-01-15T08:00:00.000000Z");
  EXPECT_FALSE(b_.TryAcquireOrRenew());
  EXPECT_FALSE(b_.IsLeader());
}

TEST_F(LeaderElection, RenewedLeaseIsNeverTakenAndExpiredOneIs) {
  ASSERT_TRUE(a_.TryAcquireOrRenew());
  const std::string acquired = Lease()["spec"]["acquireTime"];
  for (int i = 0; i < 10; ++i) {  // 40s of a renewing every 4s: b never gets it
    clock_.now += 4s;
    ASSERT_TRUE(a_.TryAcquireOrRenew());
    EXPECT_FALSE(b_.TryAcquireOrRenew());
  }
  EXPECT_EQ(Lease()["spec"]["acquireTime"], acquired);
  EXPECT_EQ(Lease()["spec"]["renewTime"], FormatMicroTime(clock_.now));

  // a goes silent. b last saw a change now; it must wait a full lease duration from here.
  clock_.now += 14s;
  EXPECT_FALSE(b_.TryAcquireOrRenew());
  EXPECT_FALSE(a_.IsLeader());  // a's own renew deadline (10s) already passed
  clock_.now += 2s;
  ASSERT_TRUE(b_.TryAcquireOrRenew());
  json spec = Lease()["spec"];
  EXPECT_EQ(spec["holderIdentity"], "b");
  EXPECT_EQ(spec["leaseTransitions"], 1);
  EXPECT_EQ(spec["acquireTime"], FormatMicroTime(clock_.now));
  // a comes back: it sees b's fresh record and stays a follower.
  EXPECT_FALSE(a_.TryAcquireOrRenew());
  EXPECT_FALSE(a_.IsLeader());
}

TEST_F(LeaderElection, LeaderStepsDownWhenRenewalsFailPastTheDeadline) {
  ASSERT_TRUE(a_.TryAcquireOrRenew());
  EXPECT_FALSE(b_.TryAcquireOrRenew());  // b observes a's record now
  fake_.InjectError("PUT /apis/coordination.k8s.io/v1/namespaces/ops/leases", 503, "ServiceUnavailable", 1000);
  clock_.now += 4s;
  a_.TryAcquireOrRenew();
  EXPECT_TRUE(a_.IsLeader());  // one failed renewal is tolerated within the deadline
  clock_.now += 4s;
  a_.TryAcquireOrRenew();
  EXPECT_TRUE(a_.IsLeader());
  clock_.now += 3s;  // 11s since the last successful renewal
  a_.TryAcquireOrRenew();
  EXPECT_FALSE(a_.IsLeader());
  // a stopped acting before anyone may take over: b needs 15s since it saw a change.
  fake_.ClearInjectedErrors();
  EXPECT_FALSE(b_.TryAcquireOrRenew());
  clock_.now += 4s;
  EXPECT_TRUE(b_.TryAcquireOrRenew());
}

TEST_F(LeaderElection, ConflictingTakeoverLoses) {
  ASSERT_TRUE(a_.TryAcquireOrRenew());
  EXPECT_FALSE(b_.TryAcquireOrRenew());
  clock_.now += 16s;
  // Another candidate's write lands between b's read and b's write.
  fake_.InjectError("PUT /apis/coordination.k8s.io/v1/namespaces/ops/leases/cairn-operator", 409, "Conflict");
  EXPECT_FALSE(b_.TryAcquireOrRenew());
  EXPECT_FALSE(b_.IsLeader());
  EXPECT_EQ(Lease()["spec"]["holderIdentity"], "a");
}

TEST_F(LeaderElection, ReleaseLetsTheNextCandidateAcquireImmediately) {
  ASSERT_TRUE(a_.TryAcquireOrRenew());
  EXPECT_FALSE(b_.TryAcquireOrRenew());
  ASSERT_TRUE(a_.Release().ok());
  EXPECT_FALSE(a_.IsLeader());
  EXPECT_EQ(Lease()["spec"]["holderIdentity"], "");
  clock_.now += 1s;
  ASSERT_TRUE(b_.TryAcquireOrRenew());
  EXPECT_EQ(Lease()["spec"]["leaseTransitions"], 1);
}

TEST(LeaderElectionRun, TwoElectorsNeverLeadAtOnceAndFailOver) {
  FakeApiServer fake;
  auto make = [&] { return std::move(kube::Client::Create(fake.Config(), kube::ClientOptions{2s})).value(); };
  auto c1 = make(), c2 = make();
  auto cfg = [](const std::string& id) {
    LeaderElectionConfig c = Config(id);
    c.lease_duration = 1000ms;
    c.renew_deadline = 600ms;
    c.retry_period = 50ms;
    return c;
  };
  auto wall = [] { return Clock::now(); };
  LeaderElector e1(*c1, cfg("one"), wall), e2(*c2, cfg("two"), wall);
  std::atomic<int> leaders{0}, max_leaders{0}, starts{0};
  auto run = [&](LeaderElector& e) {
    return std::jthread([&](std::stop_token st) {
      e.Run(st, [&] {
        ++starts;
        int n = ++leaders;
        int m = max_leaders;
        while (n > m && !max_leaders.compare_exchange_weak(m, n)) {}
      }, [&] { --leaders; });
    });
  };
  auto t1 = run(e1);
  auto t2 = run(e2);
  auto wait = [](auto f) {
    for (int i = 0; i < 400 && !f(); ++i) std::this_thread::sleep_for(10ms);
    return f();
  };
  ASSERT_TRUE(wait([&] { return starts == 1; }));
  LeaderElector& first = e1.IsLeader() ? e1 : e2;
  LeaderElector& second = e1.IsLeader() ? e2 : e1;
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(starts, 1);  // the follower stays a follower while the leader renews
  EXPECT_FALSE(second.IsLeader());

  // Clean shutdown of the leader releases the Lease: the other takes over well within
  // the lease duration.
  auto released = Clock::now();
  (&first == &e1 ? t1 : t2).request_stop();
  (&first == &e1 ? t1 : t2).join();
  // The elector reports leadership before it runs the started callback on its own
  // thread, so wait for the callback, not for IsLeader().
  ASSERT_TRUE(wait([&] { return starts == 2; }));
  EXPECT_TRUE(second.IsLeader());
  EXPECT_LT(Clock::now() - released, 900ms);
  EXPECT_EQ(max_leaders, 1);
}

}  // namespace
}  // namespace cairn::op

namespace cairn::op {
namespace {

TEST(LeaderElectionRun, LeaderWhoseRenewalsFailStopsActingBeforeTheLeaseCouldBeTaken) {
  FakeApiServer fake;
  auto client = std::move(kube::Client::Create(fake.Config(), kube::ClientOptions{2s})).value();
  LeaderElectionConfig cfg = Config("solo");
  cfg.lease_duration = 1000ms;
  cfg.renew_deadline = 400ms;
  cfg.retry_period = 50ms;
  LeaderElector e(*client, cfg, [] { return Clock::now(); });
  std::atomic<bool> started{false}, stopped{false};
  std::jthread t([&](std::stop_token st) { e.Run(st, [&] { started = true; }, [&] { stopped = true; }); });
  for (int i = 0; i < 200 && !started; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(started);

  auto cut = Clock::now();
  fake.InjectError("PUT /apis/coordination.k8s.io/v1/namespaces/ops/leases", 503, "ServiceUnavailable", 1000000);
  for (int i = 0; i < 200 && !stopped; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(stopped);
  EXPECT_FALSE(e.IsLeader());
  // Its last successful renewal was at or before `cut`; others may take over only a full
  // lease duration after they saw it.
  EXPECT_LT(Clock::now() - cut, cfg.lease_duration);
  t.join();  // Run returned by itself after stepping down
}

}  // namespace
}  // namespace cairn::op
