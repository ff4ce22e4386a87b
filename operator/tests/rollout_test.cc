// Rollout tests: the operator-driven replacement of outdated member pods. Single
// decisions (every gate, the order, stalls, version rules) from hand-built worlds, and
// whole rollouts through the planner's world simulator, which asserts at every step that
// no restart loses quorum and that the leader is never restarted while it leads.
#include "operator/reconcile/rollout.h"

#include <gtest/gtest.h>

#include "operator/reconcile/planner.h"
#include "operator/reconcile/status_builder.h"
#include "operator/tests/planner_world.h"

namespace cairn::op {
namespace {

using std::chrono::seconds;
using namespace cairn::op::testing;

// A healthy 3-member cluster whose StatefulSet has just recorded a new template "r2":
// every pod still runs "r1".
ObservedState Outdated(const ClusterSpec& spec, int n = 3) {
  ObservedState o = Healthy(spec, n);
  o.stateful_set.update_revision = "r2";
  o.stateful_set.template_changed_at = kT0 - seconds(10);
  return o;
}

World RolloutWorld(const ClusterSpec& spec, int n) {
  World w = MakeWorld(spec);
  w.obs = Healthy(spec, n);
  w.template_version = spec.version;
  return w;
}

// The ordinals replaced, in order, and how often leadership moved.
std::vector<int> Replaced(const World& w) {
  std::vector<int> out;
  for (const auto& a : w.actions) {
    if (a.kind == ActionKind::kReplacePod) out.push_back(a.ordinal);
  }
  return out;
}
int LeaderMoves(const World& w) {
  return static_cast<int>(std::count_if(w.actions.begin(), w.actions.end(),
                                        [](const Action& a) { return a.kind == ActionKind::kMoveLeader; }));
}

void ExpectAllUpdated(const World& w, const std::string& version) {
  for (const auto& [ord, pod] : w.obs.pods) {
    EXPECT_EQ(pod.revision, w.obs.stateful_set.update_revision) << "ordinal " << ord;
    EXPECT_EQ(pod.version, version) << "ordinal " << ord;
  }
}

// ---------------------------------------------------------------- single decisions
TEST(Rollout, FollowersGoFirstHighestOrdinalFirst) {
  auto spec = Spec(3);
  Plan p = PlanNext(spec, Outdated(spec), kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kReplacePod) << p.action.message;
  EXPECT_EQ(p.action.ordinal, 2);
  EXPECT_EQ(p.action.pod_uid, "pod-uid-2") << "only the outdated incarnation of the pod is deleted";
  EXPECT_EQ(p.phase, "Updating");
  EXPECT_EQ(p.updated_members, 0);
}

TEST(Rollout, TheLeaderGoesLastAfterLeadershipMovesToAnUpdatedMember) {
  auto spec = Spec(3);
  auto o = Outdated(spec);
  o.pods[1].revision = o.pods[2].revision = "r2";
  Member(o, 1)->applied_index = 499;
  Plan p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kMoveLeader) << p.action.message;
  EXPECT_EQ(p.action.member_id, Member(o, 2)->id) << "the most advanced updated member takes over";
  // An outdated follower is never a transferee: leadership would have to move again.
  o.pods[2].revision = "r1";
  p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kReplacePod);
  EXPECT_EQ(p.action.ordinal, 2);
}

TEST(Rollout, EveryGateHoldsTheNextStep) {
  auto spec = Spec(3);
  struct Case {
    const char* reason;
    std::function<void(ObservedState&)> close;
  };
  const std::vector<Case> cases = {
      {"TemplatePending", [](ObservedState& o) { o.stateful_set.revision_observed = false; }},
      {"MemberUnreachable", [](ObservedState& o) { Member(o, 1)->healthy = false; }},
      {"MemberAlarm",
       [](ObservedState& o) {
         Member(o, 1)->healthy = false;
         Member(o, 1)->errors = {"etcdserver: mvcc: database space exceeded"};
       }},
      {"PodNotRunning", [](ObservedState& o) { o.pods[1].terminating = true; }},
      {"PodNotRunning", [](ObservedState& o) { o.pods.erase(1); }},
      {"PodNotReady", [](ObservedState& o) { o.pods[0].ready = false; }},
      {"NoLeader", [](ObservedState& o) { Member(o, 0)->is_leader = false; }},
      {"MemberLagging", [](ObservedState& o) { Member(o, 1)->applied_index = 500 - 1001; }},
      {"NoLinearizableRead", [](ObservedState& o) { o.linearizable_read_error = "context deadline exceeded"; }},
  };
  for (const auto& c : cases) {
    auto o = Outdated(spec);
    c.close(o);
    Plan p = PlanNext(spec, o, kT0);
    EXPECT_EQ(p.action.kind, ActionKind::kWait) << c.reason << ": " << p.action.message;
    EXPECT_EQ(p.action.reason, c.reason) << p.action.message;
    EXPECT_FALSE(p.blocked) << c.reason << ": within the gate timeout a closed gate is a wait";
  }
  // Within the lag bound the gate is open.
  auto o = Outdated(spec);
  Member(o, 1)->applied_index = 500 - 1000;
  EXPECT_EQ(PlanNext(spec, o, kT0).action.kind, ActionKind::kReplacePod);
}

TEST(Rollout, AGateClosedLongerThanTheTimeoutStallsTheRolloutAndNamesTheMember) {
  auto spec = Spec(3);
  auto o = Outdated(spec);
  o.stateful_set.template_changed_at = kT0 - seconds(200);
  o.pods[2].revision = "r2";
  o.pods[2].created = kT0 - seconds(100);  // the last step: c-2 was replaced 100 s ago
  o.pods[2].ready = false;                  // ... and never became ready
  Plan p = PlanNext(spec, o, kT0 + seconds(199));
  EXPECT_EQ(p.action.reason, "PodNotReady");
  EXPECT_FALSE(p.blocked);
  p = PlanNext(spec, o, kT0 + seconds(201));
  EXPECT_EQ(p.action.kind, ActionKind::kWait);
  EXPECT_TRUE(p.blocked);
  EXPECT_EQ(p.action.reason, "RolloutStalled");
  EXPECT_NE(p.action.message.find("c-2"), std::string::npos) << p.action.message;
  EXPECT_NE(p.action.message.find("PodNotReady"), std::string::npos) << p.action.message;
  auto st = BuildStatus(spec, o, p, nlohmann::json::object(), kT0 + seconds(201));
  EXPECT_EQ(st["conditions"][1]["type"], "Progressing");
  EXPECT_EQ(st["conditions"][1]["status"], "False");
  EXPECT_EQ(st["conditions"][1]["reason"], "RolloutStalled");
  EXPECT_EQ(st["conditions"][2]["status"], "True") << "a stalled rollout is a problem";
  EXPECT_EQ(st["phase"], "Updating");
  EXPECT_EQ(st["updatedReplicas"], 1);
  // Once the member is back, the rollout resumes by itself.
  o.pods[2].ready = true;
  p = PlanNext(spec, o, kT0 + seconds(500));
  EXPECT_EQ(p.action.kind, ActionKind::kReplacePod);
  EXPECT_EQ(p.action.ordinal, 1);
}

TEST(Rollout, AnOnlyMemberIsReplacedInPlaceButNotOnEmptyDir) {
  auto spec = Spec(1);
  Plan p = PlanNext(spec, Outdated(spec, 1), kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kReplacePod) << p.action.message;
  EXPECT_EQ(p.action.ordinal, 0);
  spec.storage.empty_dir = true;
  auto o = Outdated(spec, 1);
  o.volumes[0].marker = naming::MemberIdHex(Member(o, 0)->id);
  p = PlanNext(spec, o, kT0);
  EXPECT_EQ(p.action.kind, ActionKind::kWait);
  EXPECT_TRUE(p.blocked);
  EXPECT_EQ(p.action.reason, "UpdateWouldLoseData");
}

TEST(Rollout, VersionChangesFollowEtcdsRules) {
  auto spec = Spec(3);
  auto o = Healthy(spec, 3);
  o.stateful_set.template_up_to_date = false;
  for (const auto& [to, allow, refused] : std::vector<std::tuple<std::string, bool, bool>>{
           {"0.2.0", false, false}, {"0.1.9", false, false}, {"0.3.0", false, true},
           {"0.0.9", false, true},  {"0.0.9", true, false},  {"1.0.0", false, false}}) {
    spec.version = to;
    spec.allow_downgrade = allow;
    Plan p = PlanNext(spec, o, kT0);
    if (refused) {
      EXPECT_EQ(p.action.kind, ActionKind::kWait) << to;
      EXPECT_TRUE(p.blocked) << to;
      EXPECT_EQ(p.action.reason, "VersionChangeRefused") << to;
      EXPECT_EQ(p.phase, "Degraded") << to;
    } else {
      EXPECT_EQ(p.action.kind, ActionKind::kUpdateStatefulSet) << to << ": " << p.action.message;
    }
  }
}

TEST(Rollout, ARefusedVersionChangeDoesNotStopTheRolloutAlreadyUnderWay) {
  auto spec = Spec(3);
  auto o = Outdated(spec);  // rolling out 0.2.0 (r2) over 0.1.0
  o.stateful_set.template_up_to_date = false;
  spec.version = "0.3.0";  // two minors above the lowest running version
  Plan p = PlanNext(spec, o, kT0);
  EXPECT_EQ(p.action.kind, ActionKind::kReplacePod) << p.action.message;
  for (auto& [ord, pod] : o.pods) pod.revision = "r2";
  p = PlanNext(spec, o, kT0);
  EXPECT_EQ(p.action.reason, "VersionChangeRefused");
}

// ---------------------------------------------------------------- whole rollouts
TEST(RolloutFlow, UpgradeReplacesFollowersThenMovesLeadershipOnceThenTheOldLeader) {
  World w = RolloutWorld(Spec(3), 3);
  w.spec.version = "0.2.0";
  w.obs.stateful_set.template_up_to_date = false;
  Plan p = w.Converge();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  EXPECT_EQ(p.phase, "Running");
  EXPECT_EQ(Replaced(w), (std::vector<int>{2, 1, 0}));
  EXPECT_EQ(LeaderMoves(w), 1);
  EXPECT_EQ(w.actions.front().kind, ActionKind::kUpdateStatefulSet);
  ExpectAllUpdated(w, "0.2.0");
  EXPECT_EQ(p.running_version, "0.2.0");
  EXPECT_EQ(p.updated_members, 3);
  w.ExpectConverged(3);
}

// With spec.backup, a version change first backs the cluster up and waits for the backup;
// a failed backup stops the upgrade; other template changes need none.
TEST(RolloutFlow, AnUpgradeWaitsForABackupOfTheClusterAsItWas) {
  World w = RolloutWorld(Spec(3), 3);
  w.spec.backup_before_upgrade = true;
  w.spec.version = "0.2.0";
  w.obs.stateful_set.template_up_to_date = false;
  Plan p = PlanNext(w.spec, w.obs, w.now);
  ASSERT_EQ(p.action.kind, ActionKind::kCreatePreUpgradeBackup) << p.action.message;
  EXPECT_NE(p.action.message.find("c-before-0-2-0"), std::string::npos) << p.action.message;
  w.Apply(p.action);
  p = PlanNext(w.spec, w.obs, w.now);
  EXPECT_EQ(p.action.kind, ActionKind::kWait);
  EXPECT_EQ(p.action.reason, "BackingUpBeforeUpgrade");
  w.obs.pre_upgrade_backup_phase = "Failed";
  w.obs.pre_upgrade_backup_message = "s3 PutObject: AccessDenied";
  p = PlanNext(w.spec, w.obs, w.now);
  EXPECT_TRUE(p.blocked);
  EXPECT_EQ(p.action.reason, "PreUpgradeBackupFailed");
  EXPECT_NE(p.action.message.find("AccessDenied"), std::string::npos);
  w.obs.pre_upgrade_backup_phase = "Succeeded";
  p = w.Converge();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  ExpectAllUpdated(w, "0.2.0");
  EXPECT_EQ(Replaced(w), (std::vector<int>{2, 1, 0}));
  // An image change without a version change rolls out without a backup.
  World image = RolloutWorld(Spec(3), 3);
  image.spec.backup_before_upgrade = true;
  image.obs.stateful_set.template_up_to_date = false;
  EXPECT_EQ(PlanNext(image.spec, image.obs, image.now).action.kind, ActionKind::kUpdateStatefulSet);
}

TEST(RolloutFlow, FiveMembersAnOperatorCrashAtAnyPointResumesAndConverges) {
  World start = RolloutWorld(Spec(5), 5);
  start.spec.version = "0.2.0";
  start.obs.stateful_set.template_up_to_date = false;
  // Snapshot the world before every step of one uninterrupted rollout.
  std::vector<World> snapshots;
  World w = start;
  for (int i = 0; i < 200; ++i) {
    w.Settle();
    snapshots.push_back(w);
    Plan p = PlanNext(w.spec, w.obs, w.now);
    if (p.action.kind == ActionKind::kNone) break;
    w.Apply(p.action);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    w.now += seconds(1);
  }
  ASSERT_EQ(Replaced(w).size(), 5u);
  ASSERT_GE(snapshots.size(), 7u);
  for (size_t i = 0; i < snapshots.size(); ++i) {
    World resumed = snapshots[i];
    resumed.now += seconds(60);  // the new operator starts a minute later
    resumed.Converge();
    ASSERT_FALSE(::testing::Test::HasFatalFailure()) << "crash point " << i;
    ExpectAllUpdated(resumed, "0.2.0");
    resumed.ExpectConverged(5);
    EXPECT_EQ(LeaderMoves(resumed), 1) << "crash point " << i;
  }
}

TEST(RolloutFlow, AMemberThatDoesNotComeBackStallsTheRolloutUntilItRecovers) {
  World w = RolloutWorld(Spec(3), 3);
  w.spec.version = "0.2.0";
  w.obs.stateful_set.template_up_to_date = false;
  Plan p;
  while (Replaced(w).empty()) {
    w.Settle();
    p = PlanNext(w.spec, w.obs, w.now);
    w.Apply(p.action);
    w.now += seconds(1);
  }
  // The replaced member's new pod crash-loops: it never answers again.
  w.restarting.clear();
  for (int i = 0; i < 40; ++i) {
    w.Settle();
    p = PlanNext(w.spec, w.obs, w.now);
    ASSERT_NE(p.action.kind, ActionKind::kReplacePod) << "continued past a member that did not come back";
    ASSERT_NE(p.action.kind, ActionKind::kMoveLeader);
    w.Apply(p.action);
    w.now += seconds(30);
  }
  EXPECT_TRUE(p.blocked);
  EXPECT_EQ(p.action.reason, "RolloutStalled");
  EXPECT_NE(p.action.message.find("c-2"), std::string::npos) << p.action.message;
  // Fixed (say, a new image): the member answers again and the rollout completes.
  Member(w.obs, 2)->healthy = true;
  p = w.Converge();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  EXPECT_EQ(Replaced(w), (std::vector<int>{2, 1, 0}));
  ExpectAllUpdated(w, "0.2.0");
}

TEST(RolloutFlow, ASpecChangedMidRolloutRollsTheNewestTemplateToEveryMember) {
  World w = RolloutWorld(Spec(3), 3);
  w.spec.version = "0.2.0";
  w.obs.stateful_set.template_up_to_date = false;
  while (Replaced(w).size() < 1) {
    w.Settle();
    Plan p = PlanNext(w.spec, w.obs, w.now);
    w.Apply(p.action);
    w.now += seconds(1);
  }
  w.spec.version = "0.2.1";
  w.obs.stateful_set.template_up_to_date = false;
  w.Converge();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  ExpectAllUpdated(w, "0.2.1");
  EXPECT_EQ(w.obs.stateful_set.update_revision, "r3");
  EXPECT_EQ(Replaced(w).size(), 4u) << "the member replaced under 0.2.0 is replaced once more";
  EXPECT_LE(LeaderMoves(w), 2);
}

TEST(RolloutFlow, ScalingDuringARolloutMakesNewMembersFromTheNewTemplate) {
  World w = RolloutWorld(Spec(3), 3);
  w.spec.version = "0.2.0";
  w.spec.replicas = 5;
  w.obs.stateful_set.template_up_to_date = false;
  w.Converge();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  w.ExpectConverged(5);
  ExpectAllUpdated(w, "0.2.0");
}

}  // namespace
}  // namespace cairn::op
