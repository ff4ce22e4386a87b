// Planner tests: single decisions from hand-built worlds, plus whole flows (bootstrap,
// scale up, scale down, repair) driven through a small world simulator that applies each
// action, checks the safety invariants at every step, and proves that re-planning from
// every intermediate state (what an operator crash amounts to) still converges.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "operator/api/naming.h"
#include "operator/reconcile/planner.h"
#include "operator/reconcile/status_builder.h"
#include "operator/tests/planner_world.h"

namespace cairn::op {
namespace {

using std::chrono::seconds;
using namespace cairn::op::testing;

// ---------------------------------------------------------------- single decisions
TEST(Planner, BootstrapCreatesChildrenInOrder) {
  World w = MakeWorld(Spec(3));
  Plan p = PlanNext(w.spec, w.obs, w.now);
  EXPECT_EQ(p.action.kind, ActionKind::kCreatePeerService);
  w.Apply(p.action);
  EXPECT_EQ(PlanNext(w.spec, w.obs, w.now).action.kind, ActionKind::kCreateClientService);
  w.Apply(PlanNext(w.spec, w.obs, w.now).action);
  p = PlanNext(w.spec, w.obs, w.now);
  ASSERT_EQ(p.action.kind, ActionKind::kCreateConfigMap);
  EXPECT_EQ(p.action.replicas, 3);
  EXPECT_EQ(p.action.state, "new");
  EXPECT_EQ(p.action.initial_cluster,
            "c-0=http://c-0.c-peer.ns.svc:2380,c-1=http://c-1.c-peer.ns.svc:2380,c-2=http://c-2.c-peer.ns.svc:2380");
  EXPECT_EQ(p.phase, "Creating");
  w.Apply(p.action);
  p = PlanNext(w.spec, w.obs, w.now);
  ASSERT_EQ(p.action.kind, ActionKind::kCreateStatefulSet);
  EXPECT_EQ(p.action.replicas, 3);
  w.Apply(p.action);
  p = PlanNext(w.spec, w.obs, w.now);
  EXPECT_EQ(p.action.kind, ActionKind::kWait);
  EXPECT_EQ(p.phase, "Creating");
  EXPECT_TRUE(p.problems.empty()) << "bootstrapping is progress, not degradation";
}

// spec.bootstrap.restore: nothing that starts members before the backup is usable, and
// the credentials Secret before the ConfigMap that points the init containers at it.
TEST(Planner, RestoreWaitsForItsBackupThenCopiesCredentialsBeforeBootstrap) {
  World w = MakeWorld(Spec(3));
  w.spec.restore.backup_name = "nightly";
  w.obs.restore_unresolved = "EtcdBackup nightly has not succeeded (phase Running)";
  w.Apply(PlanNext(w.spec, w.obs, w.now).action);
  w.Apply(PlanNext(w.spec, w.obs, w.now).action);
  Plan p = PlanNext(w.spec, w.obs, w.now);
  EXPECT_EQ(p.action.kind, ActionKind::kWait);
  EXPECT_TRUE(p.blocked);
  EXPECT_EQ(p.action.reason, "RestoreSourceNotReady");
  EXPECT_EQ(p.action.message, w.obs.restore_unresolved);
  w.spec.resolved_restore = ResolvedRestore{};
  w.obs.restore_unresolved.clear();
  p = PlanNext(w.spec, w.obs, w.now);
  EXPECT_EQ(p.action.kind, ActionKind::kCreateRestoreSecret);
  w.Apply(p.action);
  EXPECT_EQ(PlanNext(w.spec, w.obs, w.now).action.kind, ActionKind::kCreateConfigMap);
  w.Apply(PlanNext(w.spec, w.obs, w.now).action);
  EXPECT_EQ(PlanNext(w.spec, w.obs, w.now).action.kind, ActionKind::kCreateStatefulSet);
  w.Apply(PlanNext(w.spec, w.obs, w.now).action);
  // Once members run, a vanished backup changes nothing.
  w.spec.resolved_restore.reset();
  w.obs.restore_unresolved = "EtcdBackup nightly does not exist";
  EXPECT_FALSE(PlanNext(w.spec, w.obs, w.now).blocked);
}

TEST(Planner, FullBootstrapConvergesAndSealsBootstrapEntries) {
  World w = MakeWorld(Spec(3));
  Plan p = w.Converge();
  w.ExpectConverged(3);
  EXPECT_EQ(p.phase, "Running");
  for (auto& [name, b] : w.obs.config_map.members) EXPECT_EQ(b.state, "existing") << name;
  // Never a membership RPC during bootstrap: the static initial cluster does it all.
  for (auto& t : w.trace) {
    EXPECT_NE(t, "AddLearner");
    EXPECT_NE(t, "RemoveMember");
  }
}

TEST(Planner, ConvergedClusterDoesNothing) {
  auto spec = Spec(3);
  Plan p = PlanNext(spec, Healthy(spec, 3), kT0);
  EXPECT_EQ(p.action.kind, ActionKind::kNone);
  EXPECT_EQ(p.phase, "Running");
  EXPECT_TRUE(p.available);
  EXPECT_EQ(p.action.requeue_after, seconds(30));
}

// spec.auth.enabled: auth turned on or off as the last step of a converged pass, never
// blindly, and never ahead of membership work.
TEST(Planner, AuthIsTurnedOnOrOffOnceEverythingElseIsDone) {
  auto spec = Spec(3);
  spec.auth = {"c-root", true};
  auto o = Healthy(spec, 3);
  o.auth_enabled = false;
  Plan p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kEnableAuth);
  EXPECT_NE(p.action.message.find("Secret c-root"), std::string::npos) << p.action.message;
  o.auth_enabled = true;
  EXPECT_EQ(PlanNext(spec, o, kT0).action.kind, ActionKind::kNone);
  spec.auth.enabled = false;
  EXPECT_EQ(PlanNext(spec, o, kT0).action.kind, ActionKind::kDisableAuth);
  spec.auth.enabled.reset();
  EXPECT_EQ(PlanNext(spec, o, kT0).action.kind, ActionKind::kNone) << "unset: auth stays as it is";

  spec.auth.enabled = true;
  o.auth_enabled.reset();
  o.auth_problem = "spec.auth.credentialsSecret: Secret c-root does not exist";
  Plan unknown = PlanNext(spec, o, kT0);
  EXPECT_EQ(unknown.action.kind, ActionKind::kWait);
  EXPECT_TRUE(unknown.blocked);
  EXPECT_EQ(unknown.action.reason, "AuthStateUnknown");
  EXPECT_NE(unknown.action.message.find("Secret c-root does not exist"), std::string::npos);

  auto bigger = Spec(4);
  bigger.auth = {"c-root", true};
  auto growing = Healthy(bigger, 3);
  growing.auth_enabled = false;
  EXPECT_EQ(PlanNext(bigger, growing, kT0).action.kind, ActionKind::kAddLearner) << "membership work first";
}

TEST(Planner, PausedTakesNoActionEvenWhenEverythingIsMissing) {
  auto spec = Spec(3);
  spec.paused = true;
  Plan p = PlanNext(spec, ObservedState{}, kT0);
  EXPECT_EQ(p.action.kind, ActionKind::kNone);
  EXPECT_EQ(p.phase, "Paused");
  auto o = Healthy(spec, 3);
  spec.replicas = 5;
  EXPECT_EQ(PlanNext(spec, o, kT0).action.kind, ActionKind::kNone);
}

TEST(Planner, DeletionDefersToGarbageCollection) {
  auto spec = Spec(3);
  spec.being_deleted = true;
  Plan p = PlanNext(spec, ObservedState{}, kT0);
  EXPECT_EQ(p.action.kind, ActionKind::kWait);
  EXPECT_EQ(p.action.reason, "Deleting");
}

TEST(Planner, OutdatedChildrenAreUpdated) {
  auto spec = Spec(3);
  auto o = Healthy(spec, 3);
  o.client_service.up_to_date = false;
  EXPECT_EQ(PlanNext(spec, o, kT0).action.kind, ActionKind::kUpdateClientService);
  o = Healthy(spec, 3);
  o.stateful_set.template_up_to_date = false;
  EXPECT_EQ(PlanNext(spec, o, kT0).action.kind, ActionKind::kUpdateStatefulSet);
  Member(o, 2)->healthy = false;
  EXPECT_NE(PlanNext(spec, o, kT0).action.kind, ActionKind::kUpdateStatefulSet)
      << "a rolling restart with an unhealthy member could lose quorum";
}

TEST(Planner, PdbKeepsQuorumAvailable) {
  auto spec = Spec(5);
  auto o = Healthy(spec, 5);
  o.pdb = {true, 2};
  Plan p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kUpdatePdb);
  EXPECT_EQ(p.action.min_available, 3);
  o.pdb.exists = false;
  p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kCreatePdb);
  EXPECT_EQ(p.action.min_available, 3);
  EXPECT_EQ(QuorumOf(1), 1);
  EXPECT_EQ(QuorumOf(2), 2);
  EXPECT_EQ(QuorumOf(4), 3);
}

TEST(Planner, ScaleUpStartsWithLearnerAdd) {
  auto spec = Spec(4);
  auto o = Healthy(spec, 3);
  Plan p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kAddLearner);
  EXPECT_EQ(p.action.member_name, "c-3");
  EXPECT_EQ(p.action.peer_url, "http://c-3.c-peer.ns.svc:2380");
  EXPECT_EQ(p.phase, "ScalingUp");
}

TEST(Planner, ScaleUpWaitsForAllVotersHealthy) {
  auto spec = Spec(4);
  auto o = Healthy(spec, 3);
  Member(o, 1)->healthy = false;
  Plan p = PlanNext(spec, o, kT0);
  EXPECT_EQ(p.action.kind, ActionKind::kWait);
  EXPECT_EQ(p.action.reason, "WaitingForHealthyMembers");
  EXPECT_FALSE(p.problems.empty());
}

TEST(Planner, CrashAfterMemberAddWritesConfigThenScales) {
  auto spec = Spec(4);
  auto o = Healthy(spec, 3);
  MemberState l;
  l.id = 0x777;
  l.peer_url = naming::PeerUrl("c", "ns", 3);
  l.is_learner = true;
  o.members->push_back(l);
  Plan p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kWriteMemberBootstrap);
  EXPECT_EQ(p.action.member_name, "c-3");
  EXPECT_EQ(p.action.state, "existing");
  EXPECT_EQ(p.action.member_id, 0x777u);
  EXPECT_EQ(p.action.initial_cluster,
            "c-0=http://c-0.c-peer.ns.svc:2380,c-1=http://c-1.c-peer.ns.svc:2380,c-2=http://c-2.c-peer.ns.svc:2380,"
            "c-3=http://c-3.c-peer.ns.svc:2380");
  o.config_map.members["c-3"] = {p.action.initial_cluster, "existing", "0000000000000777"};
  p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kScaleStatefulSet);
  EXPECT_EQ(p.action.replicas, 4);
  o.stateful_set.replicas = 4;
  o.pods[3] = {true, false, false, kT0, "new-pod", "r1", "0.1.0"};
  p = PlanNext(spec, o, kT0 + seconds(10));
  EXPECT_EQ(p.action.kind, ActionKind::kWait);
  EXPECT_EQ(p.action.reason, "LearnerStarting");
  p = PlanNext(spec, o, kT0 + seconds(121));
  EXPECT_EQ(p.action.kind, ActionKind::kRestartPod);
  EXPECT_EQ(p.action.ordinal, 3);
}

// Repair after a lost volume: the member's pod already runs when its entry is rewritten
// for the new learner, and the kubelet would show it the new entry only a minute or more
// later. Restarting it at once is what makes a repair take seconds.
TEST(Planner, ALearnerPodOlderThanItsJoinConfigurationIsRestartedAtOnce) {
  auto spec = Spec(3);
  auto o = Healthy(spec, 3);
  Member(o, 2)->id = 0x777;
  Member(o, 2)->name = "";
  Member(o, 2)->is_learner = true;
  Member(o, 2)->healthy = false;
  o.config_map.members["c-2"] = {InitialClusterOf(spec, *o.members), "existing", "0000000000000777"};
  o.pods[2].created = kT0 - seconds(5);
  o.config_map.configured_at["c-2"] = kT0 - seconds(2);
  Plan p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kRestartPod) << p.action.message;
  EXPECT_EQ(p.action.ordinal, 2);
  EXPECT_NE(p.action.message.find("predates"), std::string::npos) << p.action.message;
  // The pod made afterwards reads the entry: it gets time to start.
  o.pods[2].created = kT0 - seconds(1);
  p = PlanNext(spec, o, kT0);
  EXPECT_EQ(p.action.kind, ActionKind::kWait);
  EXPECT_EQ(p.action.reason, "LearnerStarting");
}

// Learner c-3 (ID 0x777), configured and started, its pod running.
void StartedLearner(ObservedState& o, int64_t applied_index) {
  MemberState l;
  l.id = 0x777;
  l.name = "c-3";
  l.peer_url = naming::PeerUrl("c", "ns", 3);
  l.is_learner = true;
  l.healthy = true;
  l.applied_index = applied_index;
  o.members->push_back(l);
  o.config_map.members["c-3"] = {"x", "existing", "0000000000000777"};
  o.stateful_set.replicas = 4;
  o.pods[3] = {true, true, false, kT0, "new-pod", "r1", "0.1.0"};
}

TEST(Planner, LearnerPromotedOnlyWhenCaughtUp) {
  auto spec = Spec(4);
  auto o = Healthy(spec, 3);
  Member(o, 0)->raft_index = 50'000;
  StartedLearner(o, 10'000);
  o.volumes[3] = {true, "0000000000000777", kT0};
  Plan p = PlanNext(spec, o, kT0);
  EXPECT_EQ(p.action.kind, ActionKind::kWait);
  EXPECT_EQ(p.action.reason, "LearnerCatchingUp");
  Member(o, 3)->applied_index = 49'500;
  p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kPromoteLearner);
  EXPECT_EQ(p.action.member_id, 0x777u);
}

// The observation can list volumes before the learner's is created and members after
// the learner started. Promoting it then would leave a voter with an unmarked volume,
// which the next pass takes for lost data and removes (seen in ControllerE2E under load).
TEST(Planner, LearnerIsNotPromotedBeforeItsVolumeIsMarked) {
  auto spec = Spec(4);
  auto o = Healthy(spec, 3);
  Member(o, 0)->raft_index = 50'000;
  StartedLearner(o, 49'900);
  Plan p = PlanNext(spec, o, kT0);  // the volume is not in this observation yet
  EXPECT_EQ(p.action.kind, ActionKind::kWait);
  EXPECT_EQ(p.action.reason, "LearnerVolumeUnmarked");
  o.volumes[3] = {true, "", kT0};
  p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kAnnotateVolume);
  EXPECT_EQ(p.action.ordinal, 3);
  o.volumes[3].marker = "0000000000000777";
  p = PlanNext(spec, o, kT0);
  EXPECT_EQ(p.action.kind, ActionKind::kPromoteLearner);
}

TEST(Planner, LearnerBeyondSpecIsRemovedWhenUserShrinksMidAdd) {
  auto spec = Spec(3);
  auto o = Healthy(spec, 3);
  MemberState l;
  l.id = 0x777;
  l.peer_url = naming::PeerUrl("c", "ns", 3);
  l.is_learner = true;
  o.members->push_back(l);
  Plan p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kRemoveMember);
  EXPECT_EQ(p.action.member_id, 0x777u);
}

TEST(Planner, NeverTwoLearners) {
  auto spec = Spec(5);
  auto o = Healthy(spec, 3);
  MemberState l;
  l.id = 0x777;
  l.peer_url = naming::PeerUrl("c", "ns", 3);
  l.is_learner = true;
  l.name = "c-3";
  o.members->push_back(l);
  o.stateful_set.replicas = 4;
  Plan p = PlanNext(spec, o, kT0);
  EXPECT_NE(p.action.kind, ActionKind::kAddLearner);
}

TEST(Planner, ScaleDownRemovesHighestOrdinal) {
  auto spec = Spec(3);
  auto o = Healthy(spec, 5);
  Plan p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kRemoveMember);
  EXPECT_EQ(p.action.member_name, "c-4");
  EXPECT_EQ(p.action.member_id, 0x104u);
  EXPECT_EQ(p.phase, "ScalingDown");
}

TEST(Planner, ScaleDownMovesLeadershipAwayFirst) {
  auto spec = Spec(2);
  auto o = Healthy(spec, 3);
  Member(o, 0)->is_leader = false;
  Member(o, 2)->is_leader = true;
  Member(o, 0)->applied_index = 400;
  Member(o, 1)->applied_index = 499;
  Plan p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kMoveLeader);
  EXPECT_EQ(p.action.member_id, 0x101u) << "the most up-to-date healthy follower takes over";
}

TEST(Planner, ScaleDownRefusesToLoseQuorum) {
  auto spec = Spec(2);
  auto o = Healthy(spec, 3);
  Member(o, 1)->healthy = false;  // 2 of 3 healthy; removing healthy c-2 leaves 1 of 2
  Plan p = PlanNext(spec, o, kT0);
  EXPECT_EQ(p.action.kind, ActionKind::kWait);
  EXPECT_EQ(p.action.reason, "UnsafeToRemove");
  // Removing an unhealthy top member is fine: it improves the healthy ratio.
  Member(o, 1)->healthy = true;
  Member(o, 2)->healthy = false;
  p = PlanNext(spec, o, kT0);
  EXPECT_EQ(p.action.kind, ActionKind::kRemoveMember);
}

TEST(Planner, NoMembershipChangeWithoutQuorum) {
  auto spec = Spec(5);
  auto o = Healthy(spec, 3);
  Member(o, 1)->healthy = false;
  Member(o, 2)->healthy = false;
  Plan p = PlanNext(spec, o, kT0);
  EXPECT_EQ(p.action.kind, ActionKind::kWait);
  EXPECT_EQ(p.action.reason, "NoQuorum");
  EXPECT_EQ(p.phase, "Degraded");
  EXPECT_FALSE(p.available);
}

TEST(Planner, CrashAfterMemberRemoveShrinksStatefulSetThenDeletesPvc) {
  auto spec = Spec(2);
  auto o = Healthy(spec, 3);
  o.members->pop_back();  // c-2 removed, StatefulSet not yet shrunk
  o.pdb.min_available = 2;
  Plan p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kDeleteMemberBootstrap);
  EXPECT_EQ(p.action.member_name, "c-2");
  o.config_map.members.erase("c-2");
  p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kScaleStatefulSet);
  EXPECT_EQ(p.action.replicas, 2);
  o.stateful_set.replicas = 2;
  p = PlanNext(spec, o, kT0);
  EXPECT_EQ(p.action.kind, ActionKind::kWait) << "pod c-2 still exists; its PVC is in use";
  o.pods.erase(2);
  p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kDeletePvc);
  EXPECT_EQ(p.action.ordinal, 2);
}

TEST(Planner, RetainPolicyKeepsPvcUntilOrdinalIsReused) {
  auto spec = Spec(2);
  spec.storage.reclaim = ReclaimPolicy::kRetain;
  auto o = Healthy(spec, 2);
  o.volumes[2] = {true, "0000000000000102", kT0 - seconds(100)};
  EXPECT_EQ(PlanNext(spec, o, kT0).action.kind, ActionKind::kNone);
  spec.replicas = 3;
  Plan p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kDeletePvc) << "the old identity's data must not be reused";
  EXPECT_EQ(p.action.ordinal, 2);
}

TEST(Planner, NeverBelowOneMember) {
  auto spec = Spec(1);
  auto o = Healthy(spec, 1);
  EXPECT_EQ(PlanNext(spec, o, kT0).action.kind, ActionKind::kNone);
  spec.replicas = 0;  // only reachable if the schema is bypassed
  Plan p = PlanNext(spec, o, kT0);
  EXPECT_NE(p.action.kind, ActionKind::kRemoveMember);
  EXPECT_NE(p.action.kind, ActionKind::kScaleStatefulSet);
}

TEST(Planner, DataLossIsRepairedByRemoveAndReAdd) {
  auto spec = Spec(3);
  auto o = Healthy(spec, 3);
  o.pods[1] = {true, true, false, kT0 - seconds(30), "new-pod", "r1", "0.1.0"};
  o.volumes[1] = {true, "", kT0 - seconds(30)};  // a new, empty volume...
  // ...on which etcd rejoined under the old ID and looks healthy: still data loss.
  Plan p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kRemoveMember);
  EXPECT_EQ(p.action.member_id, 0x101u);
  EXPECT_EQ(p.phase, "Repairing");
  Member(o, 1)->healthy = false;
  EXPECT_EQ(PlanNext(spec, o, kT0).action.kind, ActionKind::kRemoveMember);
  o.members->erase(o.members->begin() + 1);
  p = PlanNext(spec, o, kT0 + seconds(1));
  ASSERT_EQ(p.action.kind, ActionKind::kDeleteMemberBootstrap);
  o.config_map.members.erase("c-1");
  p = PlanNext(spec, o, kT0 + seconds(1));
  ASSERT_EQ(p.action.kind, ActionKind::kAddLearner);
  EXPECT_EQ(p.action.member_name, "c-1");
  EXPECT_EQ(p.phase, "Repairing");
}

TEST(Planner, VolumeWithAnotherMembersMarkIsDataLoss) {
  auto spec = Spec(3);
  auto o = Healthy(spec, 3);
  o.volumes[2].marker = naming::MemberIdHex(0x101);
  Plan p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kRemoveMember);
  EXPECT_EQ(p.action.member_id, 0x102u);
}

TEST(Planner, StuckPodWithIntactDataIsReportedNotTouched) {
  auto spec = Spec(3);
  auto o = Healthy(spec, 3);
  Member(o, 2)->healthy = false;
  o.pods[2].ready = false;
  Plan p = PlanNext(spec, o, kT0 + seconds(100000));
  EXPECT_EQ(p.action.kind, ActionKind::kNone);
  EXPECT_EQ(p.phase, "Degraded");
  ASSERT_EQ(p.problems.size(), 1u);
  EXPECT_NE(p.problems[0].find("c-2"), std::string::npos);
  EXPECT_NE(p.problems[0].find("pod not ready"), std::string::npos);
}

TEST(Planner, OnlyMemberWithLostDataIsNotRemoved) {
  auto spec = Spec(1);
  auto o = Healthy(spec, 1);
  o.volumes[0] = {true, "", kT0 - seconds(1000)};
  Plan p = PlanNext(spec, o, kT0);
  EXPECT_NE(p.action.kind, ActionKind::kRemoveMember);
}

TEST(Planner, StartedBootstrapMemberIsMarkedThenSealed) {
  auto spec = Spec(3);
  auto o = Healthy(spec, 3);
  o.volumes[2].marker = "";
  o.config_map.members["c-2"] = {BootstrapInitialCluster(spec, 3), "new", ""};
  Plan p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kAnnotateVolume);
  EXPECT_EQ(p.action.ordinal, 2);
  EXPECT_EQ(p.action.member_id, 0x102u);
  o.volumes[2].marker = naming::MemberIdHex(0x102);
  p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kWriteMemberBootstrap) << "sealing comes only after marking";
  EXPECT_EQ(p.action.state, "existing");
  EXPECT_EQ(p.action.member_id, 0x102u);
  Member(o, 2)->healthy = false;
  o.volumes[2].marker = "";
  EXPECT_NE(PlanNext(spec, o, kT0 + seconds(100000)).action.kind, ActionKind::kRemoveMember)
      << "an unsealed member that never came up is reported, not removed";
}

TEST(Planner, ForeignMemberStopsAllMembershipChanges) {
  auto spec = Spec(5);
  auto o = Healthy(spec, 3);
  MemberState f;
  f.id = 0xbad;
  f.name = "intruder";
  f.peer_url = "http://10.0.0.9:2380";
  f.healthy = true;
  o.members->push_back(f);
  Plan p = PlanNext(spec, o, kT0);
  EXPECT_EQ(p.action.kind, ActionKind::kWait);
  EXPECT_EQ(p.action.reason, "UnknownMember");
}

TEST(Planner, LostStatefulSetIsRecreatedCoveringAllMembers) {
  auto spec = Spec(3);
  auto o = Healthy(spec, 5);
  o.stateful_set = {};
  Plan p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kCreateStatefulSet);
  EXPECT_EQ(p.action.replicas, 5);
}

TEST(Planner, ShrunkStatefulSetIsRestored) {
  auto spec = Spec(3);
  auto o = Healthy(spec, 3);
  o.stateful_set.replicas = 2;
  Plan p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kScaleStatefulSet);
  EXPECT_EQ(p.action.replicas, 3);
}

TEST(Planner, MemberListUnavailableAfterBootstrapIsUnknownNotWithoutQuorum) {
  auto spec = Spec(3);
  auto o = Healthy(spec, 3);
  o.members.reset();
  o.member_list_error = "MemberList http://c-0.c-peer.ns.svc:2379: deadline exceeded";
  Plan p = PlanNext(spec, o, kT0);
  EXPECT_EQ(p.action.kind, ActionKind::kWait);
  EXPECT_EQ(p.phase, "Unknown");
  EXPECT_FALSE(p.members_known);
  auto st = BuildStatus(spec, o, p, nlohmann::json::object(), kT0);
  EXPECT_EQ(st["conditions"][0]["type"], "Available");
  EXPECT_EQ(st["conditions"][0]["status"], "Unknown");
  EXPECT_EQ(st["conditions"][0]["reason"], "MembersUnreachable");
  EXPECT_NE(st["conditions"][0]["message"].get<std::string>().find("c-0.c-peer"), std::string::npos)
      << "the status names what could not be reached";
}

TEST(Planner, APausedMemberIsReportedAsNotAnsweringWhileTheQuorumStaysAvailable) {
  auto spec = Spec(3);
  auto o = Healthy(spec, 3);
  Member(o, 2)->healthy = false;  // SIGSTOPped: no answer at all
  Plan p = PlanNext(spec, o, kT0);
  EXPECT_TRUE(p.available);
  ASSERT_EQ(p.problems.size(), 1u);
  EXPECT_EQ(p.problems[0], "member c-2 does not answer");
  Member(o, 2)->healthy = false;
  Member(o, 2)->errors = {"NOSPACE"};
  p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.problems.size(), 1u);
  EXPECT_EQ(p.problems[0], "member c-2 reports: NOSPACE");
}

// ---------------------------------------------------------------- flows
TEST(PlannerFlow, ScaleUpOneToFiveOneLearnerAtATime) {
  World w = MakeWorld(Spec(1));
  w.Converge();
  w.ExpectConverged(1);
  w.spec.replicas = 5;
  w.trace.clear();
  w.Converge();
  w.ExpectConverged(5);
  EXPECT_EQ(std::count(w.trace.begin(), w.trace.end(), "AddLearner"), 4);
  EXPECT_EQ(std::count(w.trace.begin(), w.trace.end(), "PromoteLearner"), 4);
  // Each add is followed by its promote before the next add.
  int open = 0;
  for (auto& t : w.trace) {
    if (t == "AddLearner") {
      EXPECT_EQ(open++, 0);
    }
    if (t == "PromoteLearner") --open;
  }
}

TEST(PlannerFlow, ScaleDownFiveToOneMovesLeaderAndCleansUp) {
  World w = MakeWorld(Spec(5));
  w.Converge();
  // Put the leader on the highest ordinal so the first removal needs a leader move.
  for (auto& m : *w.obs.members) m.is_leader = m.peer_url == naming::PeerUrl("c", "ns", 4);
  w.spec.replicas = 1;
  w.trace.clear();
  w.Converge();
  w.ExpectConverged(1);
  EXPECT_GE(std::count(w.trace.begin(), w.trace.end(), "MoveLeader"), 1);
  EXPECT_EQ(std::count(w.trace.begin(), w.trace.end(), "RemoveMember"), 4);
  EXPECT_EQ(std::count(w.trace.begin(), w.trace.end(), "DeletePvc"), 4);
  EXPECT_EQ(w.obs.volumes.size(), 1u);
}

TEST(PlannerFlow, RepairReplacesMemberWithLostData) {
  World w = MakeWorld(Spec(3));
  w.Converge();
  MemberState* m1 = Member(w.obs, 1);
  uint64_t old_id = m1->id;
  m1->healthy = false;
  w.obs.volumes[1] = {true, "", w.now};  // PVC replaced by an empty one
  w.obs.pods[1] = {true, false, false, w.now, "new-pod", "r1", "0.1.0"};
  w.trace.clear();
  w.Converge();
  w.ExpectConverged(3);
  EXPECT_NE(Member(w.obs, 1)->id, old_id) << "member must be re-added with a new identity";
  EXPECT_EQ(std::count(w.trace.begin(), w.trace.end(), "RemoveMember"), 1);
  EXPECT_EQ(std::count(w.trace.begin(), w.trace.end(), "AddLearner"), 1);
}

TEST(PlannerFlow, EveryCrashPointConverges) {
  // Record the full path of 3 -> 5 -> 2, then restart from every intermediate state with
  // a perturbation an operator crash could leave behind (a step's effect applied but the
  // requeue lost), and require convergence from each.
  for (auto [from, to] : {std::pair{3, 5}, std::pair{5, 2}, std::pair{1, 3}}) {
    World base = MakeWorld(Spec(from));
    base.Converge();
    base.spec.replicas = to;
    std::vector<World> snapshots;
    for (int i = 0; i < 200; ++i) {
      base.Settle();
      snapshots.push_back(base);
      Plan p = PlanNext(base.spec, base.obs, base.now);
      if (p.action.kind == ActionKind::kNone) break;
      base.Apply(p.action);
      ASSERT_FALSE(::testing::Test::HasFatalFailure());
      base.now += seconds(6);
    }
    ASSERT_GT(snapshots.size(), 5u);
    for (size_t i = 0; i < snapshots.size(); ++i) {
      World w = snapshots[i];
      w.now += seconds(1000);  // a long outage of the operator itself
      w.Converge();
      ASSERT_FALSE(::testing::Test::HasFatalFailure()) << from << "->" << to << " crash point " << i;
      w.ExpectConverged(to);
    }
  }
}

// ---------------------------------------------------------------- status
TEST(Status, ReflectsMembersAndKeepsTransitionTimes) {
  auto spec = Spec(3);
  auto o = Healthy(spec, 3);
  Member(o, 2)->is_learner = true;
  Plan p = PlanNext(spec, o, kT0);
  auto st = BuildStatus(spec, o, p, nlohmann::json::object(), kT0);
  EXPECT_EQ(st["replicas"], 3);
  EXPECT_EQ(st["readyReplicas"], 2);
  EXPECT_EQ(st["members"][0]["role"], "leader");
  EXPECT_EQ(st["members"][2]["role"], "learner");
  EXPECT_EQ(st["members"][1]["id"], "0000000000000101");
  EXPECT_EQ(st["clientEndpoint"], "http://c-client.ns.svc:2379");
  EXPECT_EQ(st["selector"], "app.kubernetes.io/instance=c,app.kubernetes.io/name=cairn");
  EXPECT_EQ(st["currentVersion"], "0.1.0") << "Cairn's version, as the members' pods run it";
  EXPECT_EQ(st["targetVersion"], "0.1.0");
  EXPECT_EQ(st["updatedReplicas"], 3);
  EXPECT_EQ(st["members"][1]["version"], "0.1.0");
  EXPECT_EQ(st["members"][1]["apiVersion"], "3.5.0") << "the etcd API version is shown separately";
  EXPECT_EQ(st["conditions"][0]["type"], "Available");
  EXPECT_EQ(st["conditions"][0]["status"], "True");
  EXPECT_EQ(st["conditions"][0]["lastTransitionTime"], FormatTime(kT0));
  auto later = BuildStatus(spec, o, p, st, kT0 + seconds(60));
  EXPECT_EQ(later["conditions"][0]["lastTransitionTime"], FormatTime(kT0)) << "unchanged status keeps its time";
  Member(o, 1)->healthy = false;
  Member(o, 0)->healthy = false;
  auto p2 = PlanNext(spec, o, kT0 + seconds(120));
  auto down = BuildStatus(spec, o, p2, later, kT0 + seconds(120));
  EXPECT_EQ(down["conditions"][0]["status"], "False");
  EXPECT_EQ(down["conditions"][0]["lastTransitionTime"], FormatTime(kT0 + seconds(120)));
  EXPECT_EQ(down["conditions"][2]["type"], "Degraded");
  EXPECT_EQ(down["conditions"][2]["status"], "True");
}

// With spec.backup, BackupHealthy says whether the newest finished backup is good.
TEST(Status, BackupHealthyFollowsTheNewestFinishedBackup) {
  auto spec = Spec(3);
  spec.backup_scheduled = true;
  auto o = Healthy(spec, 3);
  Plan p = PlanNext(spec, o, kT0);
  auto condition = [&](const ObservedState& obs) {
    auto st = BuildStatus(spec, obs, p, nlohmann::json::object(), kT0);
    for (const auto& c : st["conditions"]) {
      if (c["type"] == "BackupHealthy") return c["status"].get<std::string>() + "/" + c["reason"].get<std::string>();
    }
    return std::string("absent");
  };
  EXPECT_EQ(condition(o), "Unknown/NoBackupYet");
  o.last_backup = ObservedState::LastBackup{"c-202612070600", "Succeeded", "", kT0, std::nullopt, ""};
  EXPECT_EQ(condition(o), "True/Succeeded");
  o.last_backup->verified = true;
  EXPECT_EQ(condition(o), "True/Verified");
  o.last_backup->verified = false;
  o.last_backup->verification_message = "HashKV differs";
  EXPECT_EQ(condition(o), "False/VerificationFailed");
  o.last_backup = ObservedState::LastBackup{"c-202612070700", "Failed", "AccessDenied", kT0, std::nullopt, ""};
  EXPECT_EQ(condition(o), "False/BackupFailed");
  spec.backup_scheduled = false;
  EXPECT_EQ(condition(o), "absent");
}

TEST(ClusterSpecParse, DefaultsAndRejections) {
  auto r = ClusterSpec::Parse({{"metadata", {{"name", "x"}}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->replicas, 3);
  EXPECT_EQ(r->image, "cairn:0.1.0");
  EXPECT_EQ(r->namespace_, "default");
  EXPECT_FALSE(r->allow_downgrade);
  auto repo = ClusterSpec::Parse({{"metadata", {{"name", "x"}}}, {"spec", {{"version", "0.2.0"}}}}, "registry.example/cairn");
  ASSERT_TRUE(repo.ok());
  EXPECT_EQ(repo->image, "registry.example/cairn:0.2.0");
  auto own = ClusterSpec::Parse({{"metadata", {{"name", "x"}}}, {"spec", {{"image", "mine:1"}}}}, "registry.example/cairn");
  EXPECT_EQ(own->image, "mine:1");
  auto version = ClusterSpec::Parse({{"metadata", {{"name", "x"}}}, {"spec", {{"version", "latest"}}}});
  ASSERT_FALSE(version.ok());
  EXPECT_NE(version.status().message().find("spec.version"), std::string::npos);
  auto bad = ClusterSpec::Parse({{"metadata", {{"name", "x"}}}, {"spec", {{"options", {"--initial-cluster=a=b"}}}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("managed by the operator"), std::string::npos);
  EXPECT_FALSE(ClusterSpec::Parse({{"metadata", {{"name", "x"}}}, {"spec", {{"options", {"--listen-metrics-urls=http://0.0.0.0:9"}}}}}).ok())
      << "the probes depend on the metrics port";
  for (const char* tls_flag : {"--cert-file=/x", "--peer-trusted-ca-file=/x", "--client-cert-auth", "--auto-tls"}) {
    EXPECT_FALSE(ClusterSpec::Parse({{"metadata", {{"name", "x"}}}, {"spec", {{"options", {tls_flag}}}}}).ok()) << tls_flag;
  }
  auto tls = ClusterSpec::Parse({{"metadata", {{"name", "x"}}},
                                 {"spec", {{"tls", {{"client", {{"auto", nlohmann::json::object()}, {"clientCertAuth", false},
                                                                {"extraSANs", {"a.example"}}}},
                                                    {"keyAlgorithm", "RSA"},
                                                    {"certificateValidity", "720h"},
                                                    {"caValidity", "8760h30m"}}}}}});
  ASSERT_TRUE(tls.ok()) << tls.status().ToString();
  EXPECT_TRUE(tls->tls.client.enabled);
  EXPECT_FALSE(tls->tls.peer.enabled);
  EXPECT_FALSE(tls->tls.client.client_cert_auth);
  EXPECT_EQ(tls->tls.client.extra_sans, std::vector<std::string>{"a.example"});
  EXPECT_TRUE(tls->tls.rsa);
  EXPECT_EQ(tls->tls.certificate_validity, std::chrono::hours(720));
  EXPECT_EQ(tls->tls.ca_validity, std::chrono::hours(8760) + std::chrono::minutes(30));
  auto longer = ClusterSpec::Parse({{"metadata", {{"name", "x"}}},
                                    {"spec", {{"tls", {{"peer", {{"auto", nlohmann::json::object()}}},
                                                       {"certificateValidity", "9000h"},
                                                       {"caValidity", "8000h"}}}}}});
  ASSERT_FALSE(longer.ok());
  EXPECT_NE(longer.status().message().find("shorter than spec.tls.caValidity"), std::string::npos);
  EXPECT_FALSE(ParseDuration("90 days").has_value());
  EXPECT_FALSE(ParseDuration("10d").has_value());
  EXPECT_EQ(ParseDuration("1h30m5s"), std::chrono::seconds(5405));
  auto both = ClusterSpec::Parse(
      {{"metadata", {{"name", "x"}}}, {"spec", {{"storage", {{"emptyDir", nlohmann::json::object()}, {"storageClassName", "s"}}}}}});
  EXPECT_FALSE(both.ok());
  auto ok = ClusterSpec::Parse({{"metadata", {{"name", "x"}}}, {"spec", {{"options", {"--snapshot-count=5"}}}}});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->options.size(), 1u);
}

TEST(ClusterSpecParse, AuthNamesTheSecretWithTheOperatorsCredentials) {
  auto none = ClusterSpec::Parse({{"metadata", {{"name", "x"}}}});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->auth.credentials_secret.empty());
  auto with = ClusterSpec::Parse({{"metadata", {{"name", "x"}}}, {"spec", {{"auth", {{"credentialsSecret", "x-root"}}}}}});
  ASSERT_TRUE(with.ok()) << with.status().ToString();
  EXPECT_EQ(with->auth.credentials_secret, "x-root");
  auto empty = ClusterSpec::Parse({{"metadata", {{"name", "x"}}}, {"spec", {{"auth", nlohmann::json::object()}}}});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("spec.auth needs credentialsSecret"), std::string::npos);
}

TEST(Naming, OrdinalsRoundTrip) {
  EXPECT_EQ(naming::OrdinalFromPeerUrl("c", naming::PeerUrl("c", "ns", 12)), 12);
  EXPECT_EQ(naming::OrdinalFromPeerUrl("c", "http://c-x.c-peer.ns.svc:2380"), std::nullopt);
  EXPECT_EQ(naming::OrdinalFromPeerUrl("c", "http://d-1.d-peer.ns.svc:2380"), std::nullopt);
  EXPECT_EQ(naming::OrdinalFromName("my-c", "my-c-03"), std::nullopt);
  EXPECT_EQ(naming::ParseMemberIdHex(naming::MemberIdHex(0x8e9e05c52164694dULL)), 0x8e9e05c52164694dULL);
  EXPECT_EQ(naming::Pvc("c", 2), "data-c-2");
}

}  // namespace
}  // namespace cairn::op
