// Client or peer TLS turned on, then off again, for three real Cairn members under
// writes, each step decided by the operator's planner and carried out here as the
// StatefulSet controller, the kubelet and the executor would:
//   * a pod template change restarts a member with the template's listeners and flags
//     (resources::StatefulSet's, with the Secret mounts moved here);
//   * a peer URL move is a real MemberUpdate through the operator's membership client;
//   * each pass dials the members as the controller does: on the endpoints
//     MemberEndpoints picks from the template and the pods' actual client schemes, with
//     the certificate OperatorClientTls picks from the operator's Secret.
// The cluster keeps its quorum throughout: no acknowledged write is lost, writes that
// fail even on a second member are at most one per restarted member, and at the end
// every member advertises the URLs the spec asks for and is reached there.
// Pod DNS names and ports map to loopback: member i's client port 2379 is ports_[i][0],
// peer port 2380 is ports_[i][1] and 2382 is ports_[i][2], whatever the scheme; its
// probes (plain HTTP, as on port 2381) go to ports_[i][3].
// Runs only with CAIRN_MEMBERSHIP_SERVER naming the cairn binary.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "operator/api/base64.h"
#include "operator/api/naming.h"
#include "operator/controller/observe.h"
#include "operator/controller/reconciler.h"
#include "operator/controller/tls_observer.h"
#include "operator/etcd/membership_client.h"
#include "operator/reconcile/certificates.h"
#include "operator/reconcile/planner.h"
#include "operator/resources/builders.h"
#include "operator/tests/etcd_process.h"
#include "operator/tests/loopback_writer.h"
#include "operator/tests/planner_world.h"
#include "operator/tests/secret_volume.h"
#include "operator/tls/certs.h"

namespace cairn::op {
namespace {

using namespace std::chrono_literals;
using testing::EtcdMember;
using testing::EtcdProcess;
using testing::Eventually;
using testing::ReadFile;
namespace fs = std::filesystem;

constexpr int kMembers = 3;

ClusterSpec MakeSpec(bool client_tls, bool peer_tls) {
  nlohmann::json spec = {{"replicas", kMembers}};
  if (client_tls) spec["tls"]["client"] = {{"auto", nlohmann::json::object()}};
  if (peer_tls) spec["tls"]["peer"] = {{"auto", nlohmann::json::object()}};
  return ClusterSpec::Parse({{"metadata", {{"name", "c"}, {"namespace", "ns"}, {"uid", "0123456789ab"}}}, {"spec", spec}})
      .value();
}

class TlsSwitchCairnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* server = std::getenv("CAIRN_MEMBERSHIP_SERVER");
    if (server == nullptr || *server == '\0') GTEST_SKIP() << "CAIRN_MEMBERSHIP_SERVER is not set";
    char tmpl[] = "/tmp/cairn-tls-switch-XXXXXX";
    root_ = mkdtemp(tmpl);
    // Every certificate the operator would issue, mounted as the kubelet would; the
    // operator's own goes into its Secret too.
    const ClusterSpec secure = MakeSpec(true, true);
    auto ca = tls::MakeCa("c-ca", secure.tls.ca_validity, Clock::now(), tls::KeyAlgorithm::kEcdsaP256);
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    ca_state_ = testing::IssuedCa(Clock::now() - 1h);
    for (const auto& want : NeededCertificates(secure)) {
      tls::LeafRequest req{want.common_name, want.hosts, want.server_auth, want.client_auth};
      auto leaf = tls::IssueLeaf(*ca, req, Clock::now());
      ASSERT_TRUE(leaf.ok()) << leaf.status().ToString();
      testing::WriteSecretVolume(root_ + "/tls/" + want.use,
                                 {{"tls.crt", leaf->cert_pem}, {"tls.key", leaf->key_pem}, {"ca.crt", ca->cert_pem}}, 1);
      if (want.use == "operator") {
        operator_secret_ = {{"data",
                             {{"tls.crt", Base64Encode(leaf->cert_pem)},
                              {"tls.key", Base64Encode(leaf->key_pem)},
                              {"ca.crt", Base64Encode(ca->cert_pem)}}}};
        children_.secrets[want.secret] = operator_secret_;
      }
    }
    const int base = testing::PortBase(4 * kMembers);
    for (int i = 0; i < kMembers; ++i) ports_[i] = {base + 4 * i, base + 4 * i + 1, base + 4 * i + 2, base + 4 * i + 3};
    spec_ = MakeSpec(false, false);
    template_peer_ = InitialPeerListeners(spec_);
    std::string cluster;
    for (int i = 0; i < kMembers; ++i) {
      cluster += (i ? "," : "") + naming::Member("c", i) + "=" + Loopback(naming::PeerUrl("c", "ns", i));
      endpoints_.push_back("127.0.0.1:" + std::to_string(ports_[i][0]));
    }
    cluster_ = cluster;
    children_.pods.resize(kMembers);
    for (int i = 0; i < kMembers; ++i) Start(i);
  }
  void TearDown() override {
    for (auto& p : procs_) p.reset();
    if (!root_.empty() && !HasFailure()) fs::remove_all(root_);
  }

  // A pod's peer URL (naming::PeerUrl) as the loopback address it stands for, and back.
  std::string Loopback(const std::string& peer_url) const {
    auto a = ParseMemberPeerUrl(spec_, peer_url);
    EXPECT_TRUE(a.has_value()) << peer_url;
    return a->endpoint.Scheme() + "://127.0.0.1:" + std::to_string(LoopbackPort(a->ordinal, a->endpoint.port));
  }
  int LoopbackPort(int ord, int port) const { return ports_[ord][port == naming::kPeerPort ? 1 : 2]; }
  std::string PodUrl(const std::string& loopback) const {
    for (int i = 0; i < kMembers; ++i) {
      for (bool tls : {false, true}) {
        for (int port : {naming::kPeerPort, naming::kPeerPortAlternate}) {
          const std::string pod = naming::PeerUrl("c", "ns", i, tls, port);
          if (Loopback(pod) == loopback) return pod;
        }
      }
    }
    return loopback;
  }
  // A pod's client URL (naming::MemberClientUrl) as the loopback address it stands for.
  std::string LoopbackClient(const std::string& client_url) const {
    for (int i = 0; i < kMembers; ++i) {
      for (bool tls : {false, true}) {
        if (naming::MemberClientUrl("c", "ns", i, tls) == client_url) {
          return std::string(tls ? "https" : "http") + "://" + endpoints_[i];
        }
      }
    }
    ADD_FAILURE() << "not a member's client URL: " << client_url;
    return client_url;
  }

  // Starts (or restarts, on its data) member i as a pod of the current template.
  void Start(int i) {
    const nlohmann::json sts = resources::StatefulSet(spec_, kMembers, template_peer_);
    const nlohmann::json& pod = sts["spec"]["template"];
    const nlohmann::json& container = pod["spec"]["containers"][0];
    EtcdMember m{naming::Member("c", i), ports_[i][0], LoopbackPort(i, template_peer_.advertised.port)};
    m.client_scheme = TemplateServesClientTls(sts) ? "https" : "http";
    m.peer_scheme = template_peer_.advertised.Scheme();
    m.listen_peer_urls = m.PeerUrl();
    if (template_peer_.also) {
      m.listen_peer_urls += "," + template_peer_.also->Scheme() + "://127.0.0.1:" +
                            std::to_string(LoopbackPort(i, template_peer_.also->port));
    }
    std::vector<std::string> args = {"--listen-metrics-urls=http://127.0.0.1:" + std::to_string(ports_[i][3])};
    for (size_t a = 1; a < container["args"].size(); ++a) {
      std::string arg = container["args"][a];
      if (auto at = arg.find("/etc/cairn/tls"); at != std::string::npos) arg.replace(at, 14, root_ + "/tls");
      args.push_back(arg);
    }
    serving_https_[i] = m.client_scheme == "https";
    procs_[i] = std::make_unique<EtcdProcess>(m, cluster_, "new", root_ + "/" + m.name, args);
    children_.pods[i] = pod;
    children_.pods[i]["metadata"]["name"] = naming::Member("c", i);
  }

  // The membership client the controller would build now (Reconciler::Reconcile).
  std::unique_ptr<MembershipClient> ControllerClient() {
    children_.stateful_set = resources::StatefulSet(spec_, kMembers, template_peer_);
    const bool serving_tls = TemplateServesClientTls(*children_.stateful_set);
    const ClientSchemes running = PodClientSchemes("c", children_.pods);
    std::vector<std::string> endpoints;
    for (const auto& url : MemberEndpoints(spec_, kMembers, serving_tls, running)) {
      endpoints.push_back(LoopbackClient(url));
    }
    return std::make_unique<MembershipClient>(endpoints, 2s,
                                              OperatorClientTls(children_, spec_, serving_tls || running.https));
  }

  ObservedState Observe() {
    ObservedState o = testing::Healthy(spec_, kMembers);
    o.config_map.members.clear();
    o.volumes.clear();
    o.stateful_set = {true, true, kMembers, kMembers, revision_, true, template_changed_at_, template_client_tls_,
                      template_peer_};
    o.tls.ca = ca_state_;
    for (const auto& want : NeededCertificates(spec_)) {
      o.tls.leaves[want.use] = testing::IssuedLeaf(want, ca_state_, Clock::now() - 1h, spec_.tls.certificate_validity);
    }
    for (int i = 0; i < kMembers; ++i) {
      ready_[i] = procs_[i] && testing::MemberReady(ports_[i][3]);
      o.pods[i] = {true, ready_[i], false, pods_[i].created, pods_[i].uid, pods_[i].revision, spec_.version};
    }
    o.members.reset();
    client_ = ControllerClient();
    auto members = client_->Observe();
    if (members.ok()) {
      for (auto& m : *members) m.peer_url = PodUrl(m.peer_url);
      o.members = *members;
      if (Status read = client_->LinearizableRead(); !read.ok()) o.linearizable_read_error = read.message();
    } else {
      o.member_list_error = members.status().message();
    }
    // As the controller's observer: the template is up to date if it is the one wanted.
    o.stateful_set.template_up_to_date =
        template_client_tls_ == spec_.tls.client.enabled && template_peer_ == DesiredPeerListeners(spec_, o);
    return o;
  }

  static bool EveryMemberServes(const ObservedState& o) {
    if (!o.members || o.members->size() != static_cast<size_t>(kMembers)) return false;
    for (const auto& m : *o.members) {
      if (!m.healthy) return false;
    }
    for (const auto& [ord, pod] : o.pods) {
      if (!pod.ready) return false;
    }
    return true;
  }

  // Plans and acts until the planner has nothing left to do and every pod is back: the
  // planner's rollout ends once the last pod is replaced, before it is ready again.
  void Converge() {
    const auto deadline = std::chrono::steady_clock::now() + 150s;
    std::string last;
    for (;;) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "did not converge; last planned: " << last;
      ObservedState o = Observe();
      Plan p = PlanNext(spec_, o, Clock::now());
      last = std::string(ActionKindName(p.action.kind)) + ": " + p.action.message;
      if (p.action.kind == ActionKind::kNone && EveryMemberServes(o)) return;
      switch (p.action.kind) {
        case ActionKind::kNone:
        case ActionKind::kWait:
          ASSERT_FALSE(p.blocked) << p.action.message;
          std::this_thread::sleep_for(100ms);
          break;
        case ActionKind::kUpdateStatefulSet:
          template_peer_ = DesiredPeerListeners(spec_, o);
          template_client_tls_ = spec_.tls.client.enabled;
          revision_ = "r" + std::to_string(++templates_);
          template_changed_at_ = p.action.at;
          break;
        case ActionKind::kMoveLeader: {
          // The executor reports a failed call and the next pass plans again.
          Status s = client_->MoveLeader(p.action.member_id);
          if (!s.ok()) {
            std::printf("MoveLeader failed, planning again: %s\n", s.ToString().c_str());
            ++failed_leader_moves_;
          }
          break;
        }
        case ActionKind::kUpdatePeerUrl: {
          Status s = client_->UpdatePeerUrls(p.action.member_id, {Loopback(p.action.peer_url)});
          ASSERT_TRUE(s.ok()) << s.ToString();
          moves_.push_back(p.action.peer_url);
          break;
        }
        case ActionKind::kReplacePod: {
          const int ord = p.action.ordinal;
          ++restarts_;
          ready_[ord] = false;  // the endpoints controller drops a deleted pod
          procs_[ord]->Stop();
          pods_[ord] = {"pod-" + std::to_string(kMembers + restarts_), revision_, Clock::now()};
          Start(ord);
          break;
        }
        default:
          FAIL() << "unexpected action " << ActionKindName(p.action.kind) << ": " << p.action.message;
      }
    }
  }

  // Every member advertises `want_peer` and client URLs of `want_client_scheme`, and a
  // quorum read through each succeeds over that scheme.
  void ExpectEveryMemberAt(PeerEndpoint want_peer, const std::string& want_client_scheme) {
    auto members = ControllerClient()->List();
    ASSERT_TRUE(members.ok()) << members.status().ToString();
    ASSERT_EQ(members->size(), static_cast<size_t>(kMembers));
    for (const auto& m : *members) {
      ASSERT_EQ(m.peer_urls.size(), 1u);
      auto a = ParseMemberPeerUrl(spec_, PodUrl(m.peer_urls[0]));
      ASSERT_TRUE(a.has_value()) << m.peer_urls[0];
      EXPECT_EQ(a->endpoint, want_peer) << m.name;
      ASSERT_EQ(m.client_urls.size(), 1u) << m.name;
      EXPECT_EQ(m.client_urls[0].substr(0, m.client_urls[0].find("://")), want_client_scheme) << m.name;
    }
    const ClientTls tls = want_client_scheme == "https" ? ClientTlsOf(operator_secret_) : ClientTls{};
    for (const auto& ep : endpoints_) {
      EXPECT_TRUE(MembershipClient({want_client_scheme + "://" + ep}, 5s, tls).LinearizableRead().ok()) << ep;
    }
  }

  // After the switches: nothing acknowledged is lost, the writer made progress, and
  // failures stay within what the restarts and leadership moves explain.
  void ExpectTheWriterLostNothing(testing::LoopbackWriter& writer) {
    writer.Stop();
    EXPECT_EQ(writer.Lost(0), 0) << "acknowledged writes lost (-1: the read failed)";
    EXPECT_GT(writer.acknowledged().size(), 100u) << "the writer made too little progress to prove anything";
    EXPECT_LE(writer.failures_after_retry(), restarts_);
    EXPECT_LE(failed_leader_moves_, 2) << "leadership moves (one per rollout) keep failing";
  }

  // A writer through the ready members, over each member's current client scheme with
  // the applications' client certificate.
  testing::LoopbackWriter Writer() {
    grpc::SslCredentialsOptions credentials;
    credentials.pem_root_certs = ReadFile(root_ + "/tls/client/ca.crt");
    credentials.pem_cert_chain = ReadFile(root_ + "/tls/client/tls.crt");
    credentials.pem_private_key = ReadFile(root_ + "/tls/client/tls.key");
    return testing::LoopbackWriter(
        endpoints_, [this](size_t i) { return ready_[i].load(); }, [this](size_t i) { return serving_https_[i].load(); },
        credentials);
  }

  struct Pod {
    std::string uid;
    std::string revision = "r1";
    TimePoint created = Clock::now();
  };

  std::string root_, cluster_;
  std::array<std::array<int, 4>, kMembers> ports_{};
  std::array<std::unique_ptr<EtcdProcess>, kMembers> procs_;
  std::array<Pod, kMembers> pods_;
  std::array<std::atomic<bool>, kMembers> ready_{};
  std::array<std::atomic<bool>, kMembers> serving_https_{};
  std::vector<std::string> endpoints_;  // "127.0.0.1:port" of each member's client listener
  nlohmann::json operator_secret_;      // the operator's client certificate, as its Secret
  ChildObjects children_;               // what the controller would have read: template, pods, operator Secret
  std::unique_ptr<MembershipClient> client_;
  ClusterSpec spec_;
  CertState ca_state_;
  PeerListeners template_peer_;
  bool template_client_tls_ = false;
  std::string revision_ = "r1";
  int templates_ = 1;
  TimePoint template_changed_at_{};
  int restarts_ = 0;
  int failed_leader_moves_ = 0;
  std::vector<std::string> moves_;
};

TEST_F(TlsSwitchCairnTest, PeerTlsOnThenOffUnderWritesKeepsQuorumAndLosesNothing) {
  ASSERT_TRUE(Eventually([&] { return PlanNext(spec_, Observe(), Clock::now()).action.kind == ActionKind::kNone; }, 30s))
      << "the cluster never looked converged";
  testing::LoopbackWriter writer = Writer();
  writer.Start();
  std::this_thread::sleep_for(500ms);

  spec_ = MakeSpec(false, true);
  Converge();
  ASSERT_FALSE(HasFatalFailure());
  ExpectEveryMemberAt({true, naming::kPeerPortAlternate}, "http");
  EXPECT_EQ(template_peer_, (PeerListeners{{true, naming::kPeerPortAlternate}, std::nullopt, "c-peer-tls", false}));
  EXPECT_EQ(moves_.size(), 3u);
  EXPECT_EQ(restarts_, 6) << "two rollouts";

  spec_ = MakeSpec(false, false);
  Converge();
  ASSERT_FALSE(HasFatalFailure());
  ExpectEveryMemberAt({false, naming::kPeerPort}, "http");
  EXPECT_EQ(template_peer_, (PeerListeners{{false, naming::kPeerPort}, std::nullopt, "", false}));
  EXPECT_EQ(moves_.size(), 6u);
  EXPECT_EQ(restarts_, 12);

  ExpectTheWriterLostNothing(writer);
  std::printf("peer TLS on and off under writes: %zu writes acknowledged, %d failed on the first member tried, "
              "%d after a retry, %d restarts, %zu peer URL moves, %d failed leadership moves\n",
              writer.acknowledged().size(), writer.first_failures(), writer.failures_after_retry(), restarts_,
              moves_.size(), failed_leader_moves_);
}

// Client TLS needs no URL move: one rollout each way, each pod restarted on the other
// scheme, while the operator keeps reaching pods on both.
TEST_F(TlsSwitchCairnTest, ClientTlsOnThenOffUnderWritesKeepsQuorumAndLosesNothing) {
  ASSERT_TRUE(Eventually([&] { return PlanNext(spec_, Observe(), Clock::now()).action.kind == ActionKind::kNone; }, 30s))
      << "the cluster never looked converged";
  testing::LoopbackWriter writer = Writer();
  writer.Start();
  std::this_thread::sleep_for(500ms);

  spec_ = MakeSpec(true, false);
  Converge();
  ASSERT_FALSE(HasFatalFailure());
  ExpectEveryMemberAt({false, naming::kPeerPort}, "https");
  EXPECT_EQ(restarts_, 3) << "one rollout";

  spec_ = MakeSpec(false, false);
  Converge();
  ASSERT_FALSE(HasFatalFailure());
  ExpectEveryMemberAt({false, naming::kPeerPort}, "http");
  EXPECT_EQ(restarts_, 6);
  EXPECT_TRUE(moves_.empty());

  ExpectTheWriterLostNothing(writer);
  std::printf("client TLS on and off under writes: %zu writes acknowledged, %d failed on the first member tried, "
              "%d after a retry, %d restarts, %d failed leadership moves\n",
              writer.acknowledged().size(), writer.first_failures(), writer.failures_after_retry(), restarts_,
              failed_leader_moves_);
}

}  // namespace
}  // namespace cairn::op
