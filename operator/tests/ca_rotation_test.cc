// CA rotation (ca_rotation.h) in the planner: when it starts, what each step waits for,
// and a whole rotation in a simulated cluster whose members and applications see
// Secret updates late (as the kubelet delivers them), with the operator re-planning
// from scratch at every step (a crash between any two steps). After every step, every
// connection the cluster makes must verify: each member's peer certificate against
// every other member's peer bundle, each serving certificate against the operator's
// and the applications' bundles, and the operator's and the applications' client
// certificates against every member's client bundle.
#include <gtest/gtest.h>

#include <deque>

#include "operator/reconcile/ca_rotation.h"
#include "operator/reconcile/certificates.h"
#include "operator/reconcile/planner.h"
#include "operator/reconcile/status_builder.h"
#include "operator/tests/planner_world.h"

namespace cairn::op {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using namespace cairn::op::testing;

// TlsHealthy, with members seen to serve the CA's certificates and accept the probe's.
ObservedState Running(const ClusterSpec& spec, TimePoint issued = kT0 - hours(24)) {
  ObservedState o = TlsHealthy(spec, issued);
  for (int i = 0; i < 3; ++i) {
    ServedState s;
    s.reached = s.accepted = true;
    s.authority_key_id = "ca-key-1";
    o.tls.members[i] = {s, s};
  }
  return o;
}

// The state right after kStartCaRotation and the bundle rewrites.
ObservedState Trusting(const ClusterSpec& spec, TimePoint started) {
  ObservedState o = Running(spec);
  o.tls.next_ca = IssuedCa(started, "ca-key-2");
  o.tls.rotation_started = started;
  for (auto& [use, leaf] : o.tls.leaves) leaf.ca_bundle = TrustBundle(o.tls);
  for (auto& [ord, m] : o.tls.members) m.client->accepted = m.peer->accepted = false;
  return o;
}

const std::vector<int> kStarted = {0, 1, 2};

TEST(CaRotation, StartsWhenTheAnnotationAsksAgainOrTheCaHasLivedTwoThirds) {
  ClusterSpec spec = SecureSpec(3);
  ObservedState o = Running(spec, kT0);
  const auto grace = minutes(5);
  EXPECT_EQ(PlanCaRotation(spec, o.tls, kStarted, kT0, grace).kind, CaRotationStep::Kind::kNone);
  spec.tls.rotate_ca_request = "2026-12-07";
  auto step = PlanCaRotation(spec, o.tls, kStarted, kT0, grace);
  EXPECT_EQ(step.kind, CaRotationStep::Kind::kStart);
  EXPECT_NE(step.message.find("2026-12-07"), std::string::npos) << step.message;
  o.tls.rotation_answered = "2026-12-07";
  EXPECT_EQ(PlanCaRotation(spec, o.tls, kStarted, kT0, grace).kind, CaRotationStep::Kind::kNone)
      << "a rotation answered is not asked for again";
  const auto life = o.tls.ca.not_after - o.tls.ca.not_before;
  EXPECT_EQ(PlanCaRotation(spec, o.tls, kStarted, kT0 + life * 2 / 3 - seconds(1), grace).kind,
            CaRotationStep::Kind::kNone);
  step = PlanCaRotation(spec, o.tls, kStarted, kT0 + life * 2 / 3, grace);
  EXPECT_EQ(step.kind, CaRotationStep::Kind::kStart);
  EXPECT_NE(step.message.find("two thirds"), std::string::npos) << step.message;
}

TEST(CaRotation, TheNewCaSignsOnlyOnceEveryMemberAcceptsItOnEveryCheckingListenerAndAfterTheGrace) {
  ClusterSpec spec = SecureSpec(3);
  const auto grace = minutes(5);
  ObservedState o = Trusting(spec, kT0);
  auto step = PlanCaRotation(spec, o.tls, kStarted, kT0 + hours(1), grace);
  EXPECT_EQ(step.kind, CaRotationStep::Kind::kWait);
  EXPECT_NE(step.message.find("c-0 does not trust the new CA on its peer listener"), std::string::npos) << step.message;
  for (int i = 0; i < 3; ++i) o.tls.members[i].peer->accepted = true;
  step = PlanCaRotation(spec, o.tls, kStarted, kT0 + hours(1), grace);
  EXPECT_EQ(step.kind, CaRotationStep::Kind::kWait);
  EXPECT_NE(step.message.find("client listener"), std::string::npos) << step.message;
  for (int i = 0; i < 2; ++i) o.tls.members[i].client->accepted = true;
  o.tls.members[2].client = ServedState{false, "connection refused", "", {}, "", false, ""};
  step = PlanCaRotation(spec, o.tls, kStarted, kT0 + hours(1), grace);
  EXPECT_EQ(step.kind, CaRotationStep::Kind::kWait);
  EXPECT_NE(step.message.find("c-2's client listener does not answer: connection refused"), std::string::npos)
      << step.message;
  o.tls.members[2].client->reached = o.tls.members[2].client->accepted = true;
  step = PlanCaRotation(spec, o.tls, kStarted, kT0 + grace - seconds(1), grace);
  EXPECT_EQ(step.kind, CaRotationStep::Kind::kWait) << "applications get the grace to reload the bundle";
  EXPECT_NE(step.message.find("c-client-tls"), std::string::npos) << step.message;
  EXPECT_EQ(PlanCaRotation(spec, o.tls, kStarted, kT0 + grace, grace).kind, CaRotationStep::Kind::kSwitch);
  // An unprobed started member is not assumed to trust anything.
  EXPECT_EQ(PlanCaRotation(spec, o.tls, {0, 1, 2, 3}, kT0 + grace, grace).kind, CaRotationStep::Kind::kWait);
  // Without client certificate authentication the client listener checks nothing.
  spec.tls.client.client_cert_auth = false;
  o.tls.members[1].client->accepted = false;
  EXPECT_EQ(PlanCaRotation(spec, o.tls, kStarted, kT0 + grace, grace).kind, CaRotationStep::Kind::kSwitch);
}

TEST(CaRotation, ThePreviousCaIsDroppedOnlyOnceEveryMemberServesTheNewOnesCertificates) {
  ClusterSpec spec = SecureSpec(3);
  const auto grace = minutes(5);
  ObservedState o = Trusting(spec, kT0);
  o.tls.previous_ca = o.tls.ca;
  o.tls.ca = o.tls.next_ca;
  o.tls.next_ca = {};
  o.tls.ca_switched = kT0 + hours(1);
  ASSERT_EQ(PhaseOf(o.tls), CaRotationPhase::kSwitched);
  auto step = PlanCaRotation(spec, o.tls, kStarted, kT0 + hours(2), grace);
  EXPECT_EQ(step.kind, CaRotationStep::Kind::kWait);
  EXPECT_NE(step.message.find("c-0 still serves a certificate of the previous CA on its peer listener"),
            std::string::npos)
      << step.message;
  for (auto& [ord, m] : o.tls.members) m.peer->authority_key_id = m.client->authority_key_id = "ca-key-2";
  EXPECT_EQ(PlanCaRotation(spec, o.tls, kStarted, kT0 + hours(1) + grace - seconds(1), grace).kind,
            CaRotationStep::Kind::kWait);
  EXPECT_EQ(PlanCaRotation(spec, o.tls, kStarted, kT0 + hours(1) + grace, grace).kind, CaRotationStep::Kind::kFinish);
}

TEST(CaRotation, BundlesAreRewrittenWithoutReissuingAndTheSwitchReissuesEveryLeaf) {
  ClusterSpec spec = SecureSpec(3);
  ObservedState o = Running(spec);
  o.tls.next_ca = IssuedCa(kT0, "ca-key-2");
  Plan p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kUpdateTrustBundle) << p.action.message;
  EXPECT_EQ(p.action.certificate, "server");
  EXPECT_EQ(TrustBundle(o.tls), "[PEM of ca-key-1][PEM of ca-key-2]");
  for (auto& [use, leaf] : o.tls.leaves) leaf.ca_bundle = TrustBundle(o.tls);
  o.tls.previous_ca = o.tls.ca;
  o.tls.ca = o.tls.next_ca;
  o.tls.next_ca = {};
  EXPECT_EQ(TrustBundle(o.tls), "[PEM of ca-key-1][PEM of ca-key-2]") << "the switch keeps the bundle as it was";
  p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kIssueCertificate);
  EXPECT_NE(p.action.message.find("signed by another CA"), std::string::npos) << p.action.message;
}

TEST(CaRotation, AnUnreadableNextOrPreviousCaStopsTheOperator) {
  ClusterSpec spec = SecureSpec(3);
  ObservedState o = Running(spec);
  o.tls.next_ca.exists = true;
  Plan p = PlanNext(spec, o, kT0);
  EXPECT_TRUE(p.blocked);
  EXPECT_EQ(p.action.reason, "InvalidCertificateAuthority");
  EXPECT_NE(p.action.message.find("next.crt"), std::string::npos) << p.action.message;
}

// ---------------------------------------------------------------- whole rotations

// What a pod sees of a Secret: the version the kubelet last delivered. Each update
// reaches it `lag` after the operator wrote it.
template <typename T>
struct Mounted {
  T seen{};
  std::deque<std::pair<TimePoint, T>> in_flight;
  void Observe(const T& now_in_api, TimePoint now, seconds lag) {
    const T& latest = in_flight.empty() ? seen : in_flight.back().second;
    if (!(latest == now_in_api)) in_flight.emplace_back(now + lag, now_in_api);
    while (!in_flight.empty() && in_flight.front().first <= now) {
      seen = in_flight.front().second;
      in_flight.pop_front();
    }
  }
};

// A leaf Secret as mounted: who signed its certificate, and its ca.crt.
struct LeafView {
  std::string signer;  // CA key id
  std::string bundle;
  bool operator==(const LeafView&) const = default;
};

bool Trusts(const std::string& bundle, const std::string& ca_key) {
  return bundle.find("[PEM of " + ca_key + "]") != std::string::npos;
}

struct RotationWorld {
  World w;
  std::map<int, Mounted<LeafView>> server, peer;  // by ordinal
  Mounted<LeafView> app;                          // an application mounting <cluster>-client-tls
  std::vector<seconds> member_lag;
  seconds app_lag;
  int down = -1;  // a member that does not answer
  TimePoint down_until{};
  int checks = 0;

  LeafView Api(const std::string& use) {
    const CertState& l = w.obs.tls.leaves[use];
    return {l.authority_key_id, l.ca_bundle};
  }

  // Kubelets deliver, and the operator's probes see what members load.
  void Deliver() {
    for (int i = 0; i < 3; ++i) {
      server[i].Observe(Api("server"), w.now, member_lag[i]);
      peer[i].Observe(Api("peer"), w.now, member_lag[i]);
    }
    app.Observe(Api("client"), w.now, app_lag);
    w.obs.tls.members.clear();
    const bool next = PhaseOf(w.obs.tls) == CaRotationPhase::kTrusting;
    const std::string probe_signer = next ? w.obs.tls.next_ca.subject_key_id : w.obs.tls.ca.subject_key_id;
    for (int i = 0; i < 3; ++i) {
      auto probe = [&](const LeafView& v) {
        ServedState s;
        if (i == down && w.now < down_until) {
          s.error = "connection refused";
          return s;
        }
        s.reached = true;
        s.authority_key_id = v.signer;
        s.accepted = Trusts(v.bundle, probe_signer);
        if (!s.accepted) s.refusal = "tlsv1 alert unknown ca";
        return s;
      };
      w.obs.tls.members[i] = {probe(server[i].seen), probe(peer[i].seen)};
    }
  }

  void CheckEveryConnectionVerifies() {
    ++checks;
    const LeafView op = Api("operator");  // the operator reads its Secret live
    for (int a = 0; a < 3; ++a) {
      for (int b = 0; b < 3; ++b) {
        ASSERT_TRUE(Trusts(peer[b].seen.bundle, peer[a].seen.signer))
            << "c-" << b << " refuses c-" << a << "'s peer certificate at " << w.trace.back();
      }
      ASSERT_TRUE(Trusts(op.bundle, server[a].seen.signer)) << "the operator refuses c-" << a << " at " << w.trace.back();
      ASSERT_TRUE(Trusts(app.seen.bundle, server[a].seen.signer))
          << "the application refuses c-" << a << " at " << w.trace.back();
      ASSERT_TRUE(Trusts(server[a].seen.bundle, op.signer)) << "c-" << a << " refuses the operator at " << w.trace.back();
      ASSERT_TRUE(Trusts(server[a].seen.bundle, app.seen.signer))
          << "c-" << a << " refuses the application at " << w.trace.back();
    }
  }

  // Converges, with connections checked between every two steps.
  void Run() {
    for (int i = 0; i < 3; ++i) {
      server[i].seen = Api("server");
      peer[i].seen = Api("peer");
    }
    app.seen = Api("client");
    for (int step = 0; step < 2000; ++step) {
      w.Settle();
      Deliver();
      CheckEveryConnectionVerifies();
      if (::testing::Test::HasFatalFailure()) return;
      Plan p = PlanNext(w.spec, w.obs, w.now);
      if (p.action.kind == ActionKind::kNone && PhaseOf(w.obs.tls) == CaRotationPhase::kNone &&
          w.obs.tls.ca.subject_key_id != "ca-key-1") {
        return;
      }
      w.Apply(p.action);
      if (::testing::Test::HasFatalFailure()) return;
      w.now += p.action.requeue_after + seconds(1);
    }
    FAIL() << "the rotation did not finish; last: " << w.trace.back();
  }
};

TEST(CaRotation, AWholeRotationKeepsEveryConnectionVerifyingWhateverTheKubeletsDelays) {
  struct Case {
    std::vector<seconds> member_lag;
    seconds app_lag;
  };
  const std::vector<Case> cases = {
      {{seconds(1), seconds(1), seconds(1)}, seconds(1)},
      {{seconds(5), seconds(60), seconds(120)}, seconds(90)},
      {{seconds(200), seconds(3), seconds(40)}, seconds(240)},
      // A member slower than the grace: only probing it shows when it is ready.
      {{seconds(2), seconds(30), seconds(900)}, seconds(60)},
  };
  for (const auto& c : cases) {
    RotationWorld r;
    r.w = MakeWorld(SecureSpec(3));
    r.w.Converge();
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    r.member_lag = c.member_lag;
    r.app_lag = c.app_lag;
    r.w.spec.tls.rotate_ca_request = "now";
    const size_t before = r.w.actions.size();
    r.Run();
    ASSERT_FALSE(::testing::Test::HasFatalFailure()) << "lags " << c.member_lag[1].count();
    std::map<ActionKind, int> taken;
    for (size_t i = before; i < r.w.actions.size(); ++i) ++taken[r.w.actions[i].kind];
    EXPECT_EQ(taken[ActionKind::kStartCaRotation], 1);
    EXPECT_EQ(taken[ActionKind::kSwitchCa], 1);
    EXPECT_EQ(taken[ActionKind::kFinishCaRotation], 1);
    EXPECT_EQ(taken[ActionKind::kIssueCertificate], 4) << "each leaf is reissued once, from the new CA";
    EXPECT_EQ(taken[ActionKind::kUpdateTrustBundle], 8) << "each bundle gains the new CA, then loses the old one";
    EXPECT_EQ(taken[ActionKind::kReplacePod] + taken[ActionKind::kRestartPod], 0) << "no member restarts";
    EXPECT_EQ(r.w.obs.tls.ca.subject_key_id, "ca-key-2");
    EXPECT_EQ(TrustBundle(r.w.obs.tls), "[PEM of ca-key-2]");
    EXPECT_GT(r.checks, 10);
  }
}

TEST(CaRotation, AMemberThatDoesNotAnswerHoldsTheRotationUntilItIsBack) {
  RotationWorld r;
  r.w = MakeWorld(SecureSpec(3));
  r.w.Converge();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  r.member_lag = {seconds(2), seconds(2), seconds(2)};
  r.app_lag = seconds(2);
  r.w.spec.tls.rotate_ca_request = "now";
  r.down = 1;
  r.down_until = r.w.now + hours(1);
  r.Run();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  TimePoint switched{};
  for (const auto& a : r.w.actions) {
    if (a.kind == ActionKind::kSwitchCa) switched = a.at;
  }
  EXPECT_GE(switched, r.down_until) << "the new CA signed while c-1 could not be seen to trust it";
}

TEST(CaRotation, StatusShowsTheRotationAndWhatEachMemberServes) {
  ClusterSpec spec = SecureSpec(3);
  ObservedState o = Trusting(spec, kT0);
  o.tls.members[1].client->serial = "AB12";
  o.tls.members[1].client->not_after = kT0 + hours(24);
  Plan p = PlanNext(spec, o, kT0);
  auto st = BuildStatus(spec, o, p, nlohmann::json::object(), kT0);
  EXPECT_TRUE(st["certificates"].contains("nextCa"));
  auto ready = std::find_if(st["conditions"].begin(), st["conditions"].end(),
                            [](const auto& c) { return c["type"] == "CertificatesReady"; });
  ASSERT_NE(ready, st["conditions"].end());
  EXPECT_EQ((*ready)["reason"], "RotatingCertificateAuthority");
  EXPECT_EQ(st["members"][1]["certificates"]["serving"]["serial"], "AB12");
  EXPECT_EQ(st["members"][1]["certificates"]["serving"]["notAfter"], FormatTime(kT0 + hours(24)));
  EXPECT_EQ(p.action.reason, "RotatingCertificateAuthority");
  EXPECT_EQ(p.action.kind, ActionKind::kWait);
}

}  // namespace
}  // namespace cairn::op
