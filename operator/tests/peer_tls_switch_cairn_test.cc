// Peer TLS turned on, then off again, for three real Cairn members under writes, each
// step decided by the operator's planner (peer_listeners.h) and carried out here as the
// StatefulSet controller, the kubelet and the executor would:
//   * a pod template change restarts a member with the template's peer listeners and
//     flags (resources::StatefulSet's, with the Secret mount moved here);
//   * a peer URL move is a real MemberUpdate through the operator's membership client.
// The cluster keeps its quorum throughout: no acknowledged write is lost, writes that
// fail even on a second member are at most one per restarted member, and at the end
// every member advertises the endpoint the spec asks for and reaches the others there.
// Pod DNS names and ports map to loopback: peer port 2380 of member i is ports_[i][0],
// 2382 is ports_[i][1], whatever the scheme.
// Runs only with CAIRN_MEMBERSHIP_SERVER naming the cairn binary.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "operator/api/naming.h"
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
namespace fs = std::filesystem;

constexpr int kMembers = 3;

ClusterSpec MakeSpec(bool peer_tls) {
  nlohmann::json spec = {{"replicas", kMembers}};
  if (peer_tls) spec["tls"] = {{"peer", {{"auto", nlohmann::json::object()}}}};
  return ClusterSpec::Parse({{"metadata", {{"name", "c"}, {"namespace", "ns"}, {"uid", "0123456789ab"}}}, {"spec", spec}})
      .value();
}

class PeerTlsSwitchCairnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* server = std::getenv("CAIRN_MEMBERSHIP_SERVER");
    if (server == nullptr || *server == '\0') GTEST_SKIP() << "CAIRN_MEMBERSHIP_SERVER is not set";
    char tmpl[] = "/tmp/cairn-peer-switch-XXXXXX";
    root_ = mkdtemp(tmpl);
    // The peer certificate the operator would issue, mounted as the kubelet would.
    const ClusterSpec secure = MakeSpec(true);
    auto ca = tls::MakeCa("c-ca", secure.tls.ca_validity, Clock::now(), tls::KeyAlgorithm::kEcdsaP256);
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    ca_state_ = testing::IssuedCa(Clock::now() - 1h);
    for (const auto& want : NeededCertificates(secure)) {
      tls::LeafRequest req{want.common_name, want.hosts, want.server_auth, want.client_auth};
      auto leaf = tls::IssueLeaf(*ca, req, Clock::now());
      ASSERT_TRUE(leaf.ok()) << leaf.status().ToString();
      testing::WriteSecretVolume(root_ + "/tls/" + want.use,
                                 {{"tls.crt", leaf->cert_pem}, {"tls.key", leaf->key_pem}, {"ca.crt", ca->cert_pem}}, 1);
    }
    const int base = testing::PortBase();
    for (int i = 0; i < kMembers; ++i) ports_[i] = {base + 3 * i + 1, base + 3 * i + 2};
    spec_ = MakeSpec(false);
    template_peer_ = InitialPeerListeners(spec_);
    std::string cluster;
    for (int i = 0; i < kMembers; ++i) {
      cluster += (i ? "," : "") + naming::Member("c", i) + "=" + Loopback(naming::PeerUrl("c", "ns", i));
      endpoints_.push_back("http://127.0.0.1:" + std::to_string(ClientPort(i)));
    }
    cluster_ = cluster;
    for (int i = 0; i < kMembers; ++i) Start(i);
    client_ = std::make_unique<MembershipClient>(endpoints_, 2s);
  }
  void TearDown() override {
    for (auto& p : procs_) p.reset();
    if (!root_.empty() && !HasFailure()) fs::remove_all(root_);
  }

  int ClientPort(int i) const { return ports_[i][0] - 1; }

  // A pod's peer URL (naming::PeerUrl) as the loopback address it stands for, and back.
  std::string Loopback(const std::string& peer_url) const {
    auto a = ParseMemberPeerUrl(spec_, peer_url);
    EXPECT_TRUE(a.has_value()) << peer_url;
    return a->endpoint.Scheme() + "://127.0.0.1:" + std::to_string(LoopbackPort(a->ordinal, a->endpoint.port));
  }
  int LoopbackPort(int ord, int port) const { return ports_[ord][port == naming::kPeerPort ? 0 : 1]; }
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

  // Starts (or restarts, on its data) member i as a pod of the current template.
  void Start(int i) {
    EtcdMember m{naming::Member("c", i), ClientPort(i), LoopbackPort(i, template_peer_.advertised.port)};
    m.peer_scheme = template_peer_.advertised.Scheme();
    m.listen_peer_urls = m.PeerUrl();
    if (template_peer_.also) {
      m.listen_peer_urls += "," + template_peer_.also->Scheme() + "://127.0.0.1:" +
                            std::to_string(LoopbackPort(i, template_peer_.also->port));
    }
    std::vector<std::string> args;
    const nlohmann::json container =
        resources::StatefulSet(spec_, kMembers, template_peer_)["spec"]["template"]["spec"]["containers"][0];
    for (size_t a = 1; a < container["args"].size(); ++a) {
      std::string arg = container["args"][a];
      if (auto at = arg.find("/etc/cairn/tls"); at != std::string::npos) arg.replace(at, 14, root_ + "/tls");
      args.push_back(arg);
    }
    procs_[i] = std::make_unique<EtcdProcess>(m, cluster_, "new", root_ + "/" + m.name, args);
  }

  ObservedState Observe() {
    ObservedState o = testing::Healthy(spec_, kMembers);
    o.config_map.members.clear();
    o.volumes.clear();
    o.stateful_set = {true, true, kMembers, kMembers, revision_, true, template_changed_at_, false, template_peer_};
    o.tls.ca = ca_state_;
    for (const auto& want : NeededCertificates(spec_)) {
      o.tls.leaves[want.use] = testing::IssuedLeaf(want, ca_state_, Clock::now() - 1h, spec_.tls.certificate_validity);
    }
    for (int i = 0; i < kMembers; ++i) {
      ready_[i] = procs_[i] && testing::MemberReady(ClientPort(i));
      o.pods[i] = {true, ready_[i], false, pods_[i].created, pods_[i].uid, pods_[i].revision, spec_.version};
    }
    o.members.reset();
    auto members = client_->Observe();
    if (members.ok()) {
      for (auto& m : *members) m.peer_url = PodUrl(m.peer_url);
      o.members = *members;
      if (Status read = client_->LinearizableRead(); !read.ok()) o.linearizable_read_error = read.message();
    } else {
      o.member_list_error = members.status().message();
    }
    // As the controller's observer: the template is up to date if it is the one wanted.
    o.stateful_set.template_up_to_date = template_peer_ == DesiredPeerListeners(spec_, o);
    return o;
  }

  // Plans and acts until the planner reports convergence.
  void Converge() {
    const auto deadline = std::chrono::steady_clock::now() + 150s;
    for (;;) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "did not converge";
      ObservedState o = Observe();
      Plan p = PlanNext(spec_, o, Clock::now());
      if (p.action.kind == ActionKind::kNone) return;
      switch (p.action.kind) {
        case ActionKind::kWait:
          ASSERT_FALSE(p.blocked) << p.action.message;
          std::this_thread::sleep_for(100ms);
          break;
        case ActionKind::kUpdateStatefulSet:
          template_peer_ = DesiredPeerListeners(spec_, o);
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

  // Every member advertises `want` and is reached there: a quorum read through each.
  void ExpectEveryMemberAt(PeerEndpoint want) {
    auto members = client_->List();
    ASSERT_TRUE(members.ok()) << members.status().ToString();
    ASSERT_EQ(members->size(), static_cast<size_t>(kMembers));
    for (const auto& m : *members) {
      ASSERT_EQ(m.peer_urls.size(), 1u);
      auto a = ParseMemberPeerUrl(spec_, PodUrl(m.peer_urls[0]));
      ASSERT_TRUE(a.has_value()) << m.peer_urls[0];
      EXPECT_EQ(a->endpoint, want) << m.name;
    }
    for (const auto& ep : endpoints_) {
      EXPECT_TRUE(MembershipClient({ep}, 5s).LinearizableRead().ok()) << ep;
    }
  }

  struct Pod {
    std::string uid;
    std::string revision = "r1";
    TimePoint created = Clock::now();
  };

  std::string root_, cluster_;
  std::array<std::array<int, 2>, kMembers> ports_{};
  std::array<std::unique_ptr<EtcdProcess>, kMembers> procs_;
  std::array<Pod, kMembers> pods_;
  std::array<std::atomic<bool>, kMembers> ready_{};
  std::vector<std::string> endpoints_;
  std::unique_ptr<MembershipClient> client_;
  ClusterSpec spec_;
  CertState ca_state_;
  PeerListeners template_peer_;
  std::string revision_ = "r1";
  int templates_ = 1;
  TimePoint template_changed_at_{};
  int restarts_ = 0;
  int failed_leader_moves_ = 0;
  std::vector<std::string> moves_;
};

TEST_F(PeerTlsSwitchCairnTest, PeerTlsOnThenOffUnderWritesKeepsQuorumAndLosesNothing) {
  ASSERT_TRUE(Eventually([&] { return PlanNext(spec_, Observe(), Clock::now()).action.kind == ActionKind::kNone; }, 30s))
      << "the cluster never looked converged";
  testing::LoopbackWriter writer(endpoints_, [this](size_t i) { return ready_[i].load(); });
  writer.Start();
  std::this_thread::sleep_for(500ms);

  spec_ = MakeSpec(true);
  Converge();
  ASSERT_FALSE(HasFatalFailure());
  ExpectEveryMemberAt({true, naming::kPeerPortAlternate});
  EXPECT_EQ(template_peer_, (PeerListeners{{true, naming::kPeerPortAlternate}, std::nullopt, "c-peer-tls", false}));
  EXPECT_EQ(moves_.size(), 3u);
  EXPECT_EQ(restarts_, 6) << "two rollouts";

  spec_ = MakeSpec(false);
  Converge();
  ASSERT_FALSE(HasFatalFailure());
  ExpectEveryMemberAt({false, naming::kPeerPort});
  EXPECT_EQ(template_peer_, (PeerListeners{{false, naming::kPeerPort}, std::nullopt, "", false}));
  EXPECT_EQ(moves_.size(), 6u);
  EXPECT_EQ(restarts_, 12);

  writer.Stop();
  EXPECT_EQ(writer.Lost(endpoints_[0]), 0) << "acknowledged writes lost (-1: the read failed)";
  EXPECT_GT(writer.acknowledged().size(), 100u) << "the writer made too little progress to prove anything";
  EXPECT_LE(writer.failures_after_retry(), restarts_);
  EXPECT_LE(failed_leader_moves_, 2) << "leadership moves (one per rollout) keep failing";
  std::printf("peer TLS on and off under writes: %zu writes acknowledged, %d failed on the first member tried, "
              "%d after a retry, %d restarts, %zu peer URL moves, %d failed leadership moves\n",
              writer.acknowledged().size(), writer.first_failures(), writer.failures_after_retry(), restarts_,
              moves_.size(), failed_leader_moves_);
}

}  // namespace
}  // namespace cairn::op
