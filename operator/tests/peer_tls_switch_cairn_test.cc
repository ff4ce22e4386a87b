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
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"
#include "operator/api/naming.h"
#include "operator/etcd/membership_client.h"
#include "operator/reconcile/certificates.h"
#include "operator/reconcile/planner.h"
#include "operator/resources/builders.h"
#include "operator/tests/etcd_process.h"
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

bool Ready(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string reply;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string req = "GET /readyz HTTP/1.1\r\nHost: member\r\nConnection: close\r\n\r\n";
    if (write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[64];
      ssize_t n = read(fd, buf, sizeof buf);
      if (n > 0) reply.assign(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return reply.rfind("HTTP/1.1 200", 0) == 0;
}

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
      ready_[i] = procs_[i] && Ready(ClientPort(i));
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

  // The writer: one key at a time through a ready member, round robin; on failure once
  // more through the next ready member.
  void Write(std::stop_token stop) {
    std::array<std::unique_ptr<etcdserverpb::KV::Stub>, kMembers> kv;
    for (int i = 0; i < kMembers; ++i) {
      kv[i] = etcdserverpb::KV::NewStub(grpc::CreateChannel(endpoints_[i].substr(7), grpc::InsecureChannelCredentials()));
    }
    int next = 0;
    auto put = [&](const std::string& key) {
      for (int tries = 0; tries < kMembers; ++tries) {
        int i = next++ % kMembers;
        if (!ready_[i]) continue;
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + 2s);
        etcdserverpb::PutRequest req;
        req.set_key(key);
        req.set_value("v-" + key);
        etcdserverpb::PutResponse resp;
        return kv[i]->Put(&ctx, req, &resp).ok();
      }
      return false;
    };
    for (int n = 0; !stop.stop_requested(); ++n) {
      char key[32];
      std::snprintf(key, sizeof key, "w-%06d", n);
      if (put(key)) {
        acked_.push_back(key);
        continue;
      }
      ++first_failures_;
      if (put(key)) {
        acked_.push_back(key);
      } else {
        ++failures_after_retry_;
        std::this_thread::sleep_for(50ms);
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
  std::vector<std::string> acked_;  // the writer's, read after it joined
  std::atomic<int> first_failures_{0};
  std::atomic<int> failures_after_retry_{0};
};

TEST_F(PeerTlsSwitchCairnTest, PeerTlsOnThenOffUnderWritesKeepsQuorumAndLosesNothing) {
  ASSERT_TRUE(Eventually([&] { return PlanNext(spec_, Observe(), Clock::now()).action.kind == ActionKind::kNone; }, 30s))
      << "the cluster never looked converged";
  std::jthread writer([this](std::stop_token st) { Write(st); });
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

  writer.request_stop();
  writer.join();
  auto kv = etcdserverpb::KV::NewStub(grpc::CreateChannel(endpoints_[0].substr(7), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  etcdserverpb::RangeRequest req;
  req.set_key("w-");
  req.set_range_end("w.");
  etcdserverpb::RangeResponse resp;
  ASSERT_TRUE(kv->Range(&ctx, req, &resp).ok());
  std::set<std::string> stored;
  for (const auto& kvs : resp.kvs()) stored.insert(kvs.key());
  size_t lost = 0;
  for (const auto& k : acked_) lost += stored.count(k) == 0;
  EXPECT_EQ(lost, 0u) << "acknowledged writes lost";
  EXPECT_GT(acked_.size(), 100u) << "the writer made too little progress to prove anything";
  EXPECT_LE(failures_after_retry_.load(), restarts_);
  EXPECT_LE(failed_leader_moves_, 2) << "leadership moves (one per rollout) keep failing";
  std::printf("peer TLS on and off under writes: %zu writes acknowledged, %d failed on the first member tried, "
              "%d after a retry, %d restarts, %zu peer URL moves, %d failed leadership moves\n",
              acked_.size(), first_failures_.load(), failures_after_retry_.load(), restarts_, moves_.size(),
              failed_leader_moves_);
}

}  // namespace
}  // namespace cairn::op
