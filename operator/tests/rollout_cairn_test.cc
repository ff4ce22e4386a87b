// A rollout of three real Cairn members, decided step by step by the operator's planner
// and carried out through its membership client, while a writer keeps writing through
// the members that are ready, as a client Service would route it:
//   * every member is restarted once (SIGTERM, as the kubelet stops a deleted pod),
//     followers first, and the leader only after leadership moved, exactly once;
//   * no acknowledged write is lost, and writes that fail even on a second member (a
//     put in flight across a leader handover) are at most one per restarted member;
//     the failures are reported.
// The Kubernetes side (StatefulSet revisions, pods and their readiness from /readyz) is
// simulated here; the controller's own wiring of it is covered by controller_e2e_test.
// Runs only with CAIRN_MEMBERSHIP_SERVER naming the cairn binary.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <thread>

#include "operator/api/naming.h"
#include "operator/etcd/membership_client.h"
#include "operator/reconcile/planner.h"
#include "operator/tests/etcd_process.h"
#include "operator/tests/loopback_writer.h"

namespace cairn::op {
namespace {

using namespace std::chrono_literals;
using testing::EtcdMember;
using testing::EtcdProcess;
using testing::Eventually;

constexpr int kMembers = 3;

class RolloutCairnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* server = std::getenv("CAIRN_MEMBERSHIP_SERVER");
    if (server == nullptr || *server == '\0') GTEST_SKIP() << "CAIRN_MEMBERSHIP_SERVER is not set";
    char tmpl[] = "/tmp/cairn-rollout-XXXXXX";
    root_ = mkdtemp(tmpl);
    const int base = testing::PortBase();
    std::string cluster;
    for (int i = 0; i < kMembers; ++i) {
      members_[i] = {naming::Member("c", i), base + 2 * i, base + 2 * i + 1};
      cluster += (i ? "," : "") + members_[i].name + "=" + members_[i].PeerUrl();
      endpoints_.push_back(members_[i].ClientUrl());
    }
    cluster_ = cluster;
    for (int i = 0; i < kMembers; ++i) {
      pods_[i].uid = "pod-" + std::to_string(i);
      Start(i);
    }
    auto spec = ClusterSpec::Parse({{"metadata", {{"name", "c"}, {"namespace", "ns"}, {"uid", "0123456789ab"}}},
                                    {"spec", {{"replicas", kMembers}, {"version", "0.1.0"}}}});
    ASSERT_TRUE(spec.ok());
    spec_ = *spec;
    client_ = std::make_unique<MembershipClient>(endpoints_, 2s);
  }
  void TearDown() override {
    for (auto& p : procs_) p.reset();
    if (!root_.empty() && !HasFailure()) std::filesystem::remove_all(root_);
  }

  // A restart reuses the member's data dir, where the bootstrap flags are ignored.
  void Start(int i) {
    procs_[i] = std::make_unique<EtcdProcess>(members_[i], cluster_, "new", root_ + "/" + members_[i].name);
  }

  // What the operator would read: the StatefulSet and pods as simulated here, the
  // member list and health from the real members (peer URLs mapped to the pod DNS
  // names the planner expects), and a real quorum read.
  ObservedState Observe() {
    ObservedState o;
    o.peer_service = o.client_service = {true, true};
    o.config_map.exists = true;
    o.stateful_set = {true, template_up_to_date_, kMembers, kMembers, revision_, true, template_changed_at_, false,
                      InitialPeerListeners(spec_)};
    o.pdb = {true, QuorumOf(kMembers)};
    for (int i = 0; i < kMembers; ++i) {
      const bool ready = procs_[i] && testing::MemberReady(members_[i].client_port);
      ready_[i] = ready;
      o.pods[i] = {true, ready, false, pods_[i].created, pods_[i].uid, pods_[i].revision, pods_[i].version};
    }
    auto members = client_->Observe();
    if (members.ok()) {
      for (auto& m : *members) {
        for (int i = 0; i < kMembers; ++i) {
          if (m.peer_url == members_[i].PeerUrl()) m.peer_url = naming::PeerUrl("c", "ns", i);
        }
      }
      o.members = *members;
      Status read = client_->LinearizableRead();
      if (!read.ok()) o.linearizable_read_error = read.message();
    } else {
      o.member_list_error = members.status().message();
    }
    return o;
  }

  struct Pod {
    std::string uid;
    std::string revision = "r1";
    std::string version = "0.1.0";
    TimePoint created = Clock::now();
  };

  std::string root_, cluster_;
  std::array<EtcdMember, kMembers> members_;
  std::array<std::unique_ptr<EtcdProcess>, kMembers> procs_;
  std::array<Pod, kMembers> pods_;
  std::array<std::atomic<bool>, kMembers> ready_{};
  std::vector<std::string> endpoints_;
  std::unique_ptr<MembershipClient> client_;
  ClusterSpec spec_;
  bool template_up_to_date_ = true;
  std::string revision_ = "r1";
  TimePoint template_changed_at_{};
};

TEST_F(RolloutCairnTest, ThreeMembersUpgradedUnderWritesLeaderLastNothingLost) {
  ASSERT_TRUE(Eventually([&] {
    ObservedState o = Observe();
    return PlanNext(spec_, o, Clock::now()).action.kind == ActionKind::kNone;
  }, 30s)) << "the cluster never looked converged";

  testing::LoopbackWriter writer(endpoints_, [this](size_t i) { return ready_[i].load(); });
  writer.Start();
  std::this_thread::sleep_for(500ms);

  spec_.version = "0.2.0";
  template_up_to_date_ = false;
  std::vector<int> replaced;
  int leader_moves = 0;
  std::optional<int> first_leader;
  PlannerConfig cfg;
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  for (;;) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the rollout did not finish";
    ObservedState o = Observe();
    if (!first_leader && o.members) {
      for (const auto& m : *o.members) {
        if (m.is_leader) first_leader = *naming::OrdinalFromPeerUrl("c", m.peer_url);
      }
    }
    Plan p = PlanNext(spec_, o, Clock::now(), cfg);
    if (p.action.kind == ActionKind::kNone) break;
    switch (p.action.kind) {
      case ActionKind::kWait:
        ASSERT_FALSE(p.blocked) << p.action.message;
        std::this_thread::sleep_for(100ms);
        break;
      case ActionKind::kUpdateStatefulSet:
        template_up_to_date_ = true;
        revision_ = "r2";
        template_changed_at_ = p.action.at;
        break;
      case ActionKind::kMoveLeader: {
        ++leader_moves;
        Status s = client_->MoveLeader(p.action.member_id);
        ASSERT_TRUE(s.ok()) << s.ToString();
        break;
      }
      case ActionKind::kReplacePod: {
        const int ord = p.action.ordinal;
        for (const auto& m : *o.members) {
          if (*naming::OrdinalFromPeerUrl("c", m.peer_url) == ord) {
            ASSERT_FALSE(m.is_leader) << "the operator restarted the leader";
          }
        }
        replaced.push_back(ord);
        ready_[ord] = false;  // the endpoints controller drops a deleted pod
        procs_[ord]->Stop();
        pods_[ord] = {"pod-" + std::to_string(kMembers + replaced.size()), revision_, spec_.version, Clock::now()};
        Start(ord);
        break;
      }
      default:
        FAIL() << "unexpected action " << ActionKindName(p.action.kind) << ": " << p.action.message;
    }
  }
  writer.Stop();

  ASSERT_TRUE(first_leader.has_value());
  ASSERT_EQ(replaced.size(), 3u);
  EXPECT_EQ(replaced.back(), *first_leader) << "the leader goes last";
  EXPECT_EQ(leader_moves, 1);
  for (const auto& pod : pods_) EXPECT_EQ(pod.version, "0.2.0");

  EXPECT_EQ(writer.Lost(0), 0) << "acknowledged writes lost (-1: the read failed)";
  EXPECT_GT(writer.acknowledged().size(), 50u) << "the writer made too little progress to prove anything";
  // A put in flight while its leader hands over or stops can fail on both members it
  // tries; a rollout may cost at most one such put per member it restarts.
  EXPECT_LE(writer.failures_after_retry(), kMembers);
  std::printf("rollout under writes: %zu writes acknowledged, %d failed on the first member tried, %d after a retry\n",
              writer.acknowledged().size(), writer.first_failures(), writer.failures_after_retry());
  RecordProperty("acknowledged", static_cast<int>(writer.acknowledged().size()));
  RecordProperty("first_attempt_failures", writer.first_failures());
}

}  // namespace
}  // namespace cairn::op
