// spec.tls in the planner: a new cluster gets its CA and certificates before anything
// that uses them, certificates are renewed at two thirds of their life and reissued when
// their CA or names are not what they should be (a wrong bundle is only rewritten), a broken CA Secret
// stops the operator with a reason, peer TLS is turned on and off under a running cluster
// without a member becoming unreachable, and the status shows every certificate.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "operator/api/naming.h"
#include "operator/reconcile/certificates.h"
#include "operator/reconcile/peer_listeners.h"
#include "operator/reconcile/planner.h"
#include "operator/reconcile/status_builder.h"
#include "operator/tests/planner_world.h"

namespace cairn::op {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using namespace cairn::op::testing;

TEST(TlsPlanner, ANewClusterGetsItsCaAndEveryCertificateBeforeItsMembers) {
  World w = MakeWorld(SecureSpec(3));
  Plan p = w.Converge();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  w.ExpectConverged(3);
  EXPECT_EQ(p.phase, "Running");
  std::vector<std::string> issued;
  size_t sts_created = 0;
  for (size_t i = 0; i < w.actions.size(); ++i) {
    if (w.actions[i].kind == ActionKind::kIssueCertificate) issued.push_back(w.actions[i].certificate);
    if (w.actions[i].kind == ActionKind::kCreateStatefulSet) sts_created = i;
  }
  EXPECT_EQ(w.actions.front().kind, ActionKind::kCreateCa);
  EXPECT_EQ(issued, (std::vector<std::string>{"server", "peer", "client", "operator"}));
  EXPECT_GT(sts_created, issued.size()) << "members start only once their certificates exist";
  // Members talk https to each other from the start.
  for (const auto& m : *w.obs.members) EXPECT_EQ(m.peer_url.rfind("https://", 0), 0u) << m.peer_url;
  for (const auto& [name, b] : w.obs.config_map.members) {
    EXPECT_EQ(b.initial_cluster.find("http://"), std::string::npos) << b.initial_cluster;
  }
}

TEST(TlsPlanner, OnlyTheCertificatesOfTheSidesWithTlsAreIssued) {
  ClusterSpec spec = Spec(3);
  spec.tls.peer.enabled = true;
  std::vector<std::string> uses;
  for (const auto& c : NeededCertificates(spec)) uses.push_back(c.use);
  EXPECT_EQ(uses, std::vector<std::string>{"peer"});
  spec.tls.peer.enabled = false;
  spec.tls.client.enabled = true;
  uses.clear();
  for (const auto& c : NeededCertificates(spec)) uses.push_back(c.use);
  EXPECT_EQ(uses, (std::vector<std::string>{"server", "client", "operator"}));
}

TEST(TlsPlanner, ServingCertificatesNameEveryWayToReachAMember) {
  ClusterSpec spec = SecureSpec(3);
  spec.tls.client.extra_sans = {"etcd.example.com", "10.0.0.9"};
  auto certs = NeededCertificates(spec);
  const auto& server = certs[0];
  ASSERT_EQ(server.use, "server");
  for (const char* host : {"*.c-peer.ns.svc", "*.c-peer.ns.svc.cluster.local", "c-client", "c-client.ns",
                           "c-client.ns.svc", "c-client.ns.svc.cluster.local", "localhost", "127.0.0.1",
                           "etcd.example.com", "10.0.0.9"}) {
    EXPECT_NE(std::find(server.hosts.begin(), server.hosts.end(), host), server.hosts.end()) << host;
  }
  EXPECT_TRUE(server.server_auth);
  EXPECT_FALSE(server.client_auth);
  const auto& peer = certs[1];
  EXPECT_TRUE(peer.server_auth && peer.client_auth) << "peers are servers and clients of each other";
  EXPECT_EQ(certs[2].secret, "c-client-tls");
  EXPECT_TRUE(certs[2].hosts.empty());
}

TEST(TlsPlanner, CertificatesAreRenewedAtTwoThirdsOfTheirLife) {
  ClusterSpec spec = SecureSpec(3);
  spec.tls.certificate_validity = hours(90);
  ObservedState o = TlsHealthy(spec, kT0);
  EXPECT_EQ(PlanNext(spec, o, kT0 + hours(59)).action.kind, ActionKind::kNone);
  Plan p = PlanNext(spec, o, kT0 + hours(60));
  ASSERT_EQ(p.action.kind, ActionKind::kIssueCertificate);
  EXPECT_EQ(p.action.reason, "RenewingCertificate");
  EXPECT_EQ(p.action.certificate, "server");
  EXPECT_NE(p.action.message.find("two thirds"), std::string::npos) << p.action.message;
  EXPECT_EQ(p.action.at, kT0 + hours(60)) << "the executor issues with the planner's clock";
}

TEST(TlsPlanner, ACertificateFromAnotherCaOrWithOtherNamesIsReissuedAndAnotherBundleRewritten) {
  ClusterSpec spec = SecureSpec(3);
  struct Case {
    const char* what;
    std::function<void(ObservedState&, ClusterSpec&)> change;
    const char* use;
    ActionKind kind = ActionKind::kIssueCertificate;
  };
  const std::vector<Case> cases = {
      {"signed by another CA", [](ObservedState& o, ClusterSpec&) { o.tls.leaves["peer"].authority_key_id = "old"; }, "peer"},
      // Only ca.crt is rewritten: the holder keeps its certificate and key.
      {"another CA bundle", [](ObservedState& o, ClusterSpec&) { o.tls.leaves["client"].ca_bundle = "old"; }, "client",
       ActionKind::kUpdateTrustBundle},
      {"names changed", [](ObservedState&, ClusterSpec& s) { s.tls.client.extra_sans = {"new.example"}; }, "server"},
      {"key lost", [](ObservedState& o, ClusterSpec&) { o.tls.leaves["operator"].valid = false; }, "operator"},
      {"deleted", [](ObservedState& o, ClusterSpec&) { o.tls.leaves.erase("peer"); }, "peer"},
  };
  for (const auto& c : cases) {
    ObservedState o = TlsHealthy(spec);
    ClusterSpec s = spec;
    c.change(o, s);
    Plan p = PlanNext(s, o, kT0);
    EXPECT_EQ(p.action.kind, c.kind) << c.what;
    EXPECT_EQ(p.action.certificate, c.use) << c.what;
  }
  // The same names in another order are the same certificate.
  ObservedState o = TlsHealthy(spec);
  std::reverse(o.tls.leaves["server"].sans.begin(), o.tls.leaves["server"].sans.end());
  EXPECT_EQ(PlanNext(spec, o, kT0).action.kind, ActionKind::kNone);
}

TEST(TlsPlanner, AnUnreadableCaSecretStopsTheOperatorInsteadOfReplacingIt) {
  ClusterSpec spec = SecureSpec(3);
  ObservedState o = TlsHealthy(spec);
  o.tls.ca.valid = false;
  Plan p = PlanNext(spec, o, kT0);
  EXPECT_EQ(p.action.kind, ActionKind::kWait);
  EXPECT_TRUE(p.blocked);
  EXPECT_EQ(p.action.reason, "InvalidCertificateAuthority");
  EXPECT_NE(p.action.message.find("c-ca"), std::string::npos);
}

// The peer URL of every member, in ordinal order.
std::vector<std::string> PeerUrls(const World& w) {
  std::map<int, std::string> by_ord;
  for (const auto& m : *w.obs.members) by_ord[*naming::OrdinalFromPeerUrl("c", m.peer_url)] = m.peer_url;
  std::vector<std::string> out;
  for (const auto& [ord, url] : by_ord) out.push_back(url);
  return out;
}

std::vector<std::string> PeerUrlsAt(bool tls, int port) {
  std::vector<std::string> out;
  for (int i = 0; i < 3; ++i) out.push_back(naming::PeerUrl("c", "ns", i, tls, port));
  return out;
}

// Changes the world's spec the way an edit of the EtcdCluster does.
void Edit(World& w, const ClusterSpec& spec) {
  w.spec = spec;
  w.obs.stateful_set.template_up_to_date = false;
}

size_t Count(const World& w, ActionKind kind) {
  return static_cast<size_t>(std::count_if(w.actions.begin(), w.actions.end(), [&](const Action& a) { return a.kind == kind; }));
}

// The world checks after every step that each member is reached where it advertises
// and that only pods with a peer certificate dial a TLS endpoint (planner_world.h).
TEST(TlsPlanner, PeerTlsIsTurnedOnAndOffUnderARunningClusterThroughASecondListener) {
  World w = MakeWorld(Spec(3));
  w.Converge();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  ASSERT_EQ(PeerUrls(w), PeerUrlsAt(false, naming::kPeerPort));

  Edit(w, SecureSpec(3));
  size_t before = w.actions.size();
  w.Converge();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  w.ExpectConverged(3);
  EXPECT_EQ(PeerUrls(w), PeerUrlsAt(true, naming::kPeerPortAlternate));
  EXPECT_EQ(w.obs.stateful_set.peer, (PeerListeners{{true, naming::kPeerPortAlternate}, std::nullopt, "c-peer-tls", false}));
  // Dual listeners, three moves, then the plaintext listener goes: two templates.
  std::vector<ActionKind> order;
  for (size_t i = before; i < w.actions.size(); ++i) {
    const ActionKind k = w.actions[i].kind;
    if (k == ActionKind::kUpdateStatefulSet || k == ActionKind::kUpdatePeerUrl) order.push_back(k);
  }
  EXPECT_EQ(order, (std::vector<ActionKind>{ActionKind::kUpdateStatefulSet, ActionKind::kUpdatePeerUrl,
                                            ActionKind::kUpdatePeerUrl, ActionKind::kUpdatePeerUrl,
                                            ActionKind::kUpdateStatefulSet}));
  EXPECT_EQ(Count(w, ActionKind::kRemoveMember), 0u);

  Edit(w, Spec(3));
  w.Converge();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  w.ExpectConverged(3);
  EXPECT_EQ(PeerUrls(w), PeerUrlsAt(false, naming::kPeerPort));
  EXPECT_EQ(w.obs.stateful_set.peer, (PeerListeners{{false, naming::kPeerPort}, std::nullopt, "", false}));
  EXPECT_EQ(Count(w, ActionKind::kUpdatePeerUrl), 6u);
}

TEST(TlsPlanner, APeerTlsChangeRevertedHalfWayMovesTheMovedMembersBack) {
  World w = MakeWorld(Spec(3));
  w.Converge();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  Edit(w, SecureSpec(3));
  // Run until the first member has moved to TLS.
  for (int i = 0; i < 200 && Count(w, ActionKind::kUpdatePeerUrl) == 0; ++i) {
    w.Settle();
    Plan p = PlanNext(w.spec, w.obs, w.now);
    w.Apply(p.action);
    w.CheckPeerReachability();
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    w.now += p.action.requeue_after + seconds(1);
  }
  ASSERT_EQ(Count(w, ActionKind::kUpdatePeerUrl), 1u);
  ClusterSpec plain = Spec(3);
  Edit(w, plain);
  Plan p = w.Converge();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  w.ExpectConverged(3);
  EXPECT_EQ(p.phase, "Running");
  EXPECT_EQ(PeerUrls(w), PeerUrlsAt(false, naming::kPeerPort));
  EXPECT_EQ(Count(w, ActionKind::kUpdatePeerUrl), 2u) << "only the moved member moves back";
  EXPECT_FALSE(w.obs.stateful_set.peer.also.has_value());
}

// The script in the ConfigMap is how a pod learns of a second peer listener; one written
// by an older operator would ignore it.
TEST(TlsPlanner, AStartScriptFromAnOlderOperatorIsReplacedBeforeThePodTemplateChanges) {
  World w = MakeWorld(Spec(3));
  w.Converge();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  w.obs.config_map.script_outdated = true;
  Edit(w, SecureSpec(3));
  const size_t before = w.actions.size();
  w.Converge();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  EXPECT_EQ(Count(w, ActionKind::kUpdateStartScript), 1u);
  std::vector<ActionKind> kinds;
  for (size_t i = before; i < w.actions.size(); ++i) kinds.push_back(w.actions[i].kind);
  auto script = std::find(kinds.begin(), kinds.end(), ActionKind::kUpdateStartScript);
  auto sts = std::find(kinds.begin(), kinds.end(), ActionKind::kUpdateStatefulSet);
  EXPECT_LT(script, sts);
  EXPECT_EQ(PeerUrls(w), PeerUrlsAt(true, naming::kPeerPortAlternate));
}

TEST(TlsPlanner, APeerUrlMovesOnlyWhileEveryMemberIsHealthy) {
  ClusterSpec spec = SecureSpec(3);
  ObservedState o = TlsHealthy(spec);
  o.stateful_set.peer = {{false, naming::kPeerPort}, PeerEndpoint{true, naming::kPeerPortAlternate}, "c-peer-tls", false};
  for (int i = 0; i < 3; ++i) (*o.members)[i].peer_url = naming::PeerUrl("c", "ns", i, false);
  Plan p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kUpdatePeerUrl) << p.action.message;
  EXPECT_EQ(p.action.peer_url, naming::PeerUrl("c", "ns", 0, true, naming::kPeerPortAlternate));
  (*o.members)[2].healthy = false;
  p = PlanNext(spec, o, kT0);
  EXPECT_EQ(p.action.kind, ActionKind::kWait);
  EXPECT_EQ(p.action.reason, "WaitingForHealthyMembers");
}

TEST(TlsPlanner, AMemberAddedDuringAMoveJoinsAtTheAdvertisedEndpoint) {
  ClusterSpec spec = SecureSpec(4);
  ObservedState o = TlsHealthy(spec);
  o.stateful_set.peer = {{false, naming::kPeerPort}, PeerEndpoint{true, naming::kPeerPortAlternate}, "c-peer-tls", false};
  for (int i = 0; i < 3; ++i) (*o.members)[i].peer_url = naming::PeerUrl("c", "ns", i, false);
  Plan p = PlanNext(spec, o, kT0);
  ASSERT_EQ(p.action.kind, ActionKind::kAddLearner) << p.action.message;
  EXPECT_EQ(p.action.peer_url, naming::PeerUrl("c", "ns", 3, false));
}

TEST(TlsPlanner, StatusShowsEveryCertificateAndWhetherTheyAreReady) {
  ClusterSpec spec = SecureSpec(3);
  ObservedState o = TlsHealthy(spec, kT0);
  Plan p = PlanNext(spec, o, kT0);
  auto st = BuildStatus(spec, o, p, nlohmann::json::object(), kT0);
  EXPECT_EQ(st["clientEndpoint"], "https://c-client.ns.svc:2379");
  for (const char* use : {"ca", "server", "peer", "client", "operator"}) {
    EXPECT_TRUE(st["certificates"].contains(use)) << use;
  }
  EXPECT_EQ(st["certificates"]["server"]["notAfter"], FormatTime(kT0 + spec.tls.certificate_validity));
  auto ready = std::find_if(st["conditions"].begin(), st["conditions"].end(),
                            [](const auto& c) { return c["type"] == "CertificatesReady"; });
  ASSERT_NE(ready, st["conditions"].end());
  EXPECT_EQ((*ready)["status"], "True");
  const TimePoint later = kT0 + spec.tls.certificate_validity * 3 / 4;
  st = BuildStatus(spec, o, PlanNext(spec, o, later), st, later);
  ready = std::find_if(st["conditions"].begin(), st["conditions"].end(),
                       [](const auto& c) { return c["type"] == "CertificatesReady"; });
  EXPECT_EQ((*ready)["status"], "False");
  EXPECT_NE((*ready)["message"].get<std::string>().find("renewing"), std::string::npos);
}

// spec.tls.*.secret: the user's Secrets are used as they are; nothing is issued for them.
ClusterSpec ProvidedSpec() {
  ClusterSpec spec = Spec(3);
  spec.tls.client.enabled = spec.tls.client.provided = true;
  spec.tls.client.secret_name = "my-server";
  spec.tls.client.operator_secret_name = "my-op";
  spec.tls.peer.enabled = spec.tls.peer.provided = true;
  spec.tls.peer.secret_name = "my-peer";
  return spec;
}

CertState Provided(TimePoint not_after) {
  CertState c;
  c.exists = c.valid = true;
  c.serial = "5EC";
  c.not_before = kT0 - hours(1);
  c.not_after = not_after;
  c.ca_bundle = "[PEM of the user's CA]";
  return c;
}

TEST(TlsPlanner, ProvidedSecretsAreWaitedForAndNothingIsIssued) {
  World w = MakeWorld(ProvidedSpec());
  w.Settle();
  Plan p = PlanNext(w.spec, w.obs, w.now);
  EXPECT_EQ(p.action.reason, "TlsSecretNotReady");
  EXPECT_TRUE(p.blocked);
  EXPECT_NE(p.action.message.find("Secret my-server (the server certificate) does not exist"), std::string::npos)
      << p.action.message;
  EXPECT_FALSE(w.obs.stateful_set.exists) << "members cannot start without their certificates";
  for (const char* use : {"server", "operator", "peer"}) w.obs.tls.leaves[use] = Provided(kT0 + hours(24 * 365));
  w.Converge();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  w.ExpectConverged(3);
  for (const auto& a : w.actions) {
    EXPECT_NE(a.kind, ActionKind::kCreateCa);
    EXPECT_NE(a.kind, ActionKind::kIssueCertificate);
  }
}

TEST(TlsPlanner, AProvidedCertificateThatExpiresIsReportedNotReplaced) {
  ClusterSpec spec = ProvidedSpec();
  ObservedState o = Healthy(spec, 3);
  for (const char* use : {"server", "operator", "peer"}) o.tls.leaves[use] = Provided(kT0 + hours(1));
  o.tls.leaves["peer"].ca_bundle.clear();
  Plan p = PlanNext(spec, o, kT0 + hours(2));
  EXPECT_EQ(p.action.kind, ActionKind::kNone) << "a running cluster goes on with what its members loaded";
  EXPECT_EQ(p.phase, "Degraded");
  auto st = BuildStatus(spec, o, p, nlohmann::json::object(), kT0 + hours(2));
  auto ready = std::find_if(st["conditions"].begin(), st["conditions"].end(),
                            [](const auto& c) { return c["type"] == "CertificatesReady"; });
  ASSERT_NE(ready, st["conditions"].end());
  EXPECT_EQ((*ready)["status"], "False");
  EXPECT_NE((*ready)["message"].get<std::string>().find("my-server (the server certificate) expired"), std::string::npos)
      << (*ready)["message"];
  EXPECT_EQ(st["certificates"]["server"]["serial"], "5EC");
  EXPECT_FALSE(st["certificates"].contains("ca"));
  std::string problems;
  for (const auto& problem : p.problems) problems += problem + "; ";
  EXPECT_NE(problems.find("my-peer (the peer certificate) has no ca.crt"), std::string::npos) << problems;
}

TEST(TlsPlanner, CertManagerIsAskedForTheCertificatesAndWaitedFor) {
  ClusterSpec spec = Spec(3);
  spec.tls.client.enabled = spec.tls.client.cert_manager = true;
  spec.tls.client.issuer.name = "ca";
  spec.tls.peer.enabled = true;  // auto
  World w = MakeWorld(spec);
  w.Settle();
  // Before cert-manager has answered, members wait for its Secrets.
  ObservedState asked = w.obs;
  for (const auto& want : ManagedCertificates(spec)) asked.tls.requests[want.use] = {true, true};
  Plan waiting = PlanNext(spec, asked, w.now);
  EXPECT_EQ(waiting.action.reason, "WaitingForCertManager");
  EXPECT_NE(waiting.action.message.find("Secret c-server-tls (Certificate c-server-tls)"), std::string::npos)
      << waiting.action.message;
  w.Converge();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  w.ExpectConverged(3);
  std::vector<std::string> requested, issued;
  for (const auto& a : w.actions) {
    if (a.kind == ActionKind::kApplyCertManagerCertificate) requested.push_back(a.certificate);
    if (a.kind == ActionKind::kIssueCertificate) issued.push_back(a.certificate);
  }
  EXPECT_EQ(requested, (std::vector<std::string>{"server", "client", "operator"}));
  EXPECT_EQ(issued, std::vector<std::string>{"peer"}) << "the operator's CA still issues the auto side";
  // A Certificate edited away from what the operator wants is put back.
  w.obs.tls.requests["client"].up_to_date = false;
  Plan p = PlanNext(w.spec, w.obs, w.now);
  EXPECT_EQ(p.action.kind, ActionKind::kApplyCertManagerCertificate);
  EXPECT_EQ(p.action.certificate, "client");
}

}  // namespace
}  // namespace cairn::op
