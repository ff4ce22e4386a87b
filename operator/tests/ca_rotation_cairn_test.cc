// A CA rotation of three real Cairn members, run by the operator's own code: the
// planner decides each step, the executor writes the Secrets to a fake API server, the
// TLS probes connect to the real members. A simulated kubelet delivers each Secret to
// each member's volume (the ..data swap) at its own pace, so members load new bundles
// and certificates at different times, as they would in a cluster.
//
// An application with its client certificate (mounted from <cluster>-client-tls and
// reloaded when the files change) writes continuously through every member. Checked:
// no write fails, no acknowledged write is lost, a new connection between any two
// members and from the application to any member succeeds after every step, no member
// restarts, the cluster ends on certificates of the new CA only, and a client
// certificate of the old CA is refused once the rotation is over.
// Runs only with CAIRN_MEMBERSHIP_SERVER naming the cairn binary.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"
#include "operator/api/naming.h"
#include "operator/controller/executor.h"
#include "operator/controller/membership.h"
#include "operator/controller/observe.h"
#include "operator/controller/reconciler.h"
#include "operator/controller/tls_observer.h"
#include "operator/kube/client.h"
#include "operator/kube/resource.h"
#include "operator/reconcile/ca_rotation.h"
#include "operator/reconcile/certificates.h"
#include "operator/reconcile/planner.h"
#include "operator/resources/builders.h"
#include "operator/tests/etcd_process.h"
#include "operator/tests/fake_apiserver.h"
#include "operator/tests/secret_volume.h"
#include "operator/tls/certs.h"

namespace cairn::op {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using testing::EtcdMember;
using testing::EtcdProcess;
using testing::Eventually;
using testing::WriteSecretVolume;
namespace fs = std::filesystem;
namespace types = kube::types;

constexpr int kMembers = 3;

using testing::ReadFile;

// The real membership client, with the members' loopback URLs shown to the operator's
// code as the pod DNS names it derives from the spec, and back.
class LoopbackMembership : public Membership {
 public:
  LoopbackMembership(const std::array<EtcdMember, kMembers>& members, const ClientTls& tls) : members_(members) {
    std::vector<std::string> endpoints;
    for (const auto& m : members) endpoints.push_back(m.ClientUrl());
    real_ = EtcdMembershipFactory(3s)(ClusterSpec{}, endpoints, tls, ClientAuth{});
  }
  Result<std::vector<MemberState>> Observe() override {
    auto list = real_->Observe();
    if (!list.ok()) return list;
    for (auto& m : *list) {
      for (int i = 0; i < kMembers; ++i) {
        if (m.peer_url == members_[i].PeerUrl()) m.peer_url = naming::PeerUrl("c", "ns", i, true);
      }
    }
    return list;
  }
  Status AddLearner(const std::string&) override { return Status::Internal("not in this test"); }
  Status UpdatePeerUrl(uint64_t, const std::string&) override { return Status::Internal("not in this test"); }
  Status Promote(uint64_t) override { return Status::Internal("not in this test"); }
  Status Remove(uint64_t) override { return Status::Internal("not in this test"); }
  Status MoveLeader(uint64_t) override { return Status::Internal("not in this test"); }
  Status LinearizableRead() override { return real_->LinearizableRead(); }
  Result<TlsProbe> ProbeTls(const std::string& url, const ClientTls& as) override {
    for (int i = 0; i < kMembers; ++i) {
      if (url == naming::MemberClientUrl("c", "ns", i, true)) return real_->ProbeTls(members_[i].ClientUrl(), as);
      if (url == naming::PeerUrl("c", "ns", i, true)) return real_->ProbeTls(members_[i].PeerUrl(), as);
    }
    return Status::InvalidArgument("no member has URL " + url);
  }
  Result<bool> AuthEnabled() override { return real_->AuthEnabled(); }
  Status EnableAuth() override { return real_->EnableAuth(); }
  Status DisableAuth() override { return real_->DisableAuth(); }

 private:
  const std::array<EtcdMember, kMembers>& members_;
  std::unique_ptr<Membership> real_;
};

class CaRotationCairnTest : public ::testing::Test {
 protected:
  CaRotationCairnTest() : client_(std::move(kube::Client::Create(fake_.Config(), kube::ClientOptions{5s})).value()) {}

  void SetUp() override {
    const char* server = std::getenv("CAIRN_MEMBERSHIP_SERVER");
    if (server == nullptr || *server == '\0') GTEST_SKIP() << "CAIRN_MEMBERSHIP_SERVER is not set";
    char tmpl[] = "/tmp/cairn-ca-rotation-XXXXXX";
    root_ = mkdtemp(tmpl);
    auto spec = ClusterSpec::Parse({{"metadata", {{"name", "c"}, {"namespace", "ns"}, {"uid", "0123456789ab"}}},
                                    {"spec", {{"replicas", kMembers},
                                              {"tls", {{"client", {{"auto", json::object()}}},
                                                       {"peer", {{"auto", json::object()}}}}}}}});
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    spec_ = *spec;
    config_.ca_rotation_grace = 3s;
    config_.wait_requeue = 1s;
    const int base = testing::PortBase();
    for (int i = 0; i < kMembers; ++i) {
      members_[i] = {naming::Member("c", i), base + 2 * i, base + 2 * i + 1, "https", "https"};
    }
  }
  void TearDown() override {
    for (auto& p : procs_) p.reset();
    if (!root_.empty() && !HasFailure()) fs::remove_all(root_);
  }

  std::map<std::string, json> Secrets() {
    std::map<std::string, json> out;
    for (auto& s : fake_.Objects(types::Secret(), "ns")) out[s["metadata"]["name"].get<std::string>()] = s;
    return out;
  }

  // The kubelet of member `i` (or of the application, i = -1): the Secret volumes it
  // mounts, made to match the API server's Secrets.
  void Deliver(int i) {
    auto secrets = Secrets();
    const std::vector<std::string> uses = i < 0 ? std::vector<std::string>{"client"} : std::vector<std::string>{"server", "peer"};
    for (const auto& use : uses) {
      auto s = secrets.find(naming::CertSecret("c", use));
      if (s == secrets.end()) continue;
      std::map<std::string, std::string> files;
      for (const char* key : {"tls.crt", "tls.key", "ca.crt"}) files[key] = SecretDataValue(s->second, key);
      const fs::path dir = VolumeDir(i, use);
      if (fs::exists(dir / "tls.crt") && ReadFile(dir / "tls.crt") == files["tls.crt"] &&
          ReadFile(dir / "ca.crt") == files["ca.crt"]) {
        continue;
      }
      WriteSecretVolume(dir, files, ++generation_);
    }
  }
  fs::path VolumeDir(int i, const std::string& use) {
    return root_ + (i < 0 ? std::string("/app") : "/m" + std::to_string(i)) + "/tls/" + use;
  }

  // One reconcile pass of the TLS part, as the controller runs it: observe the Secrets
  // and the real members, plan, execute. The rest of the cluster's objects are
  // simulated as converged, so the only work left is TLS.
  Plan Pass() {
    ChildObjects children;
    children.secrets = Secrets();
    LoopbackMembership membership(members_, OperatorClientTls(children, spec_, spec_.tls.client.enabled));
    Result<std::vector<MemberState>> members = Status::Unavailable("not started");
    if (procs_[0]) members = membership.Observe();
    ObservedState o = ObserveObjects(spec_, children, members);
    o.peer_service = o.client_service = {true, true};
    o.config_map.exists = true;
    o.stateful_set = {true, true, kMembers, kMembers, "r1", true, {}, true, InitialPeerListeners(spec_)};
    o.pdb = {true, QuorumOf(kMembers)};
    for (int i = 0; i < kMembers; ++i) o.pods[i] = {true, true, false, Clock::now() - 1h, "pod-" + std::to_string(i), "r1", ""};
    const TimePoint now = Clock::now();
    if (members.ok()) ProbeMemberTls(spec_, children, *members, membership, now, &o);
    Plan p = PlanNext(spec_, o, now, config_);
    Status done = ExecuteAction(*client_, membership, spec_, o, p.action);
    EXPECT_TRUE(done.ok()) << ActionKindName(p.action.kind) << ": " << done.ToString();
    if (p.action.kind != ActionKind::kWait && p.action.kind != ActionKind::kNone) taken_.push_back(p.action);
    return p;
  }

  void StartMembers() {
    auto container = resources::StatefulSet(spec_, kMembers)["spec"]["template"]["spec"]["containers"][0];
    std::string cluster;
    for (int i = 0; i < kMembers; ++i) cluster += (i ? "," : "") + members_[i].name + "=" + members_[i].PeerUrl();
    for (int i = 0; i < kMembers; ++i) {
      std::vector<std::string> args;
      for (size_t a = 1; a < container["args"].size(); ++a) {
        std::string arg = container["args"][a];
        if (auto at = arg.find("/etc/cairn/tls"); at != std::string::npos) {
          arg.replace(at, 14, root_ + "/m" + std::to_string(i) + "/tls");
          args.push_back(arg);
        } else if (arg.rfind("--client-cert-auth", 0) == 0 || arg.rfind("--peer-client-cert-auth", 0) == 0) {
          args.push_back(arg);
        }
      }
      ASSERT_GE(args.size(), 8u);
      procs_[i] = std::make_unique<EtcdProcess>(members_[i], cluster, "new", root_ + "/" + members_[i].name, args);
    }
  }

  // Every connection the cluster could open now verifies both ways: each member to each
  // other's peer listener with what it mounts, and the application to each member.
  // Established connections outlive trust changes, so writes alone would not show a
  // step taken too early; new handshakes do.
  void CheckNewConnections() {
    auto mounted = [&](int i, const std::string& use) {
      const fs::path dir = VolumeDir(i, use);
      return ClientTls{ReadFile(dir / "ca.crt"), ReadFile(dir / "tls.crt"), ReadFile(dir / "tls.key")};
    };
    auto check = [&](const std::string& who, const std::string& url, const ClientTls& as) {
      auto probe = MembershipClient({url}, 3s, as).ProbeTls(url, as);
      ++handshakes_;
      if (!probe.ok()) {
        refusals_.push_back(who + " does not trust " + url + ": " + probe.status().message());
      } else if (!probe->accepted) {
        refusals_.push_back(url + " refuses " + who + ": " + probe->refusal);
      }
    };
    for (int a = 0; a < kMembers; ++a) {
      for (int b = 0; b < kMembers; ++b) {
        if (a != b) check("c-" + std::to_string(a), members_[b].PeerUrl(), mounted(a, "peer"));
      }
      check("the application", members_[a].ClientUrl(), mounted(-1, "client"));
    }
  }

  // The application: round robin over the members with the certificate it mounts,
  // rebuilding its channels whenever the mounted files change.
  void Write(std::stop_token stop) {
    std::string ca, cert, key;
    std::array<std::unique_ptr<etcdserverpb::KV::Stub>, kMembers> kv;
    for (int n = 0; !stop.stop_requested(); ++n) {
      const fs::path dir = VolumeDir(-1, "client");
      std::string now_ca = ReadFile(dir / "ca.crt"), now_cert = ReadFile(dir / "tls.crt"), now_key = ReadFile(dir / "tls.key");
      if (now_ca != ca || now_cert != cert || now_key != key) {
        ca = now_ca;
        cert = now_cert;
        key = now_key;
        grpc::SslCredentialsOptions o{ca, key, cert};
        for (int i = 0; i < kMembers; ++i) {
          kv[i] = etcdserverpb::KV::NewStub(
              grpc::CreateChannel("127.0.0.1:" + std::to_string(members_[i].client_port), grpc::SslCredentials(o)));
        }
        ++reloads_;
      }
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + 5s);
      etcdserverpb::PutRequest req;
      char k[32];
      std::snprintf(k, sizeof k, "w-%06d", n);
      req.set_key(k);
      req.set_value("v");
      etcdserverpb::PutResponse resp;
      grpc::Status s = kv[n % kMembers]->Put(&ctx, req, &resp);
      std::lock_guard<std::mutex> lock(mu_);
      if (s.ok()) {
        acked_.push_back(k);
      } else {
        failures_.push_back(std::string(k) + " via c-" + std::to_string(n % kMembers) + ": " + s.error_message());
      }
    }
  }

  testing::FakeApiServer fake_;
  std::unique_ptr<kube::Client> client_;
  std::string root_;
  ClusterSpec spec_;
  PlannerConfig config_;
  std::array<EtcdMember, kMembers> members_;
  std::array<std::unique_ptr<EtcdProcess>, kMembers> procs_;
  std::vector<Action> taken_;
  int generation_ = 0;
  std::mutex mu_;
  std::vector<std::string> acked_, failures_;
  std::atomic<int> reloads_{0};
  std::vector<std::string> refusals_;
  int handshakes_ = 0;
};


TEST_F(CaRotationCairnTest, TheCaIsReplacedUnderWritesWithoutAFailedRequestOrARestart) {
  // The CA and every certificate exist before the members start.
  for (int i = 0; i < 20 && Secrets().size() < 5; ++i) Pass();
  ASSERT_EQ(Secrets().size(), 5u) << "the CA and four certificates";
  for (int i = -1; i < kMembers; ++i) Deliver(i);
  StartMembers();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(Eventually([&] {
    ChildObjects children;
    children.secrets = Secrets();
    return LoopbackMembership(members_, OperatorClientTls(children, spec_, spec_.tls.client.enabled)).LinearizableRead().ok();
  }, 30s)) << "the cluster never came up over mutual TLS";
  const json old_client = Secrets()[naming::CertSecret("c", "client")];
  const std::string old_ca_key = tls::ParseCert(SecretDataValue(Secrets()["c-ca"], "ca.crt"))->subject_key_id_hex;
  taken_.clear();

  std::jthread writer([this](std::stop_token stop) { Write(stop); });
  ASSERT_TRUE(Eventually([&] { std::lock_guard<std::mutex> lock(mu_); return acked_.size() > 20; }, 10s));

  // Kubelets deliver at their own pace, the application's every other pass. c-2's is
  // slower than the grace, so only the probes can tell when it has caught up.
  constexpr std::array<int, kMembers> kDeliveryEvery = {2, 3, 25};
  spec_.tls.rotate_ca_request = "rotate-1";
  int waits = 0;
  for (int pass = 0; pass < 400; ++pass) {
    Plan p = Pass();
    if (HasFailure()) break;
    waits += p.action.kind == ActionKind::kWait;
    if (p.action.kind == ActionKind::kNone && !taken_.empty() && taken_.back().kind == ActionKind::kUpdateTrustBundle &&
        std::any_of(taken_.begin(), taken_.end(), [](auto& a) { return a.kind == ActionKind::kFinishCaRotation; })) {
      break;
    }
    for (int i = 0; i < kMembers; ++i) {
      if (pass % kDeliveryEvery[i] == 0) Deliver(i);
    }
    if (pass % 2 == 0) Deliver(-1);
    CheckNewConnections();
    std::this_thread::sleep_for(200ms);
  }
  for (int i = -1; i < kMembers; ++i) Deliver(i);
  std::this_thread::sleep_for(1500ms);  // more writes on the final certificates
  writer.request_stop();
  writer.join();

  std::vector<std::string> kinds;
  for (const auto& a : taken_) kinds.push_back(ActionKindName(a.kind));
  const std::vector<std::string> want = {"StartCaRotation",  "UpdateTrustBundle", "UpdateTrustBundle", "UpdateTrustBundle",
                                         "UpdateTrustBundle", "SwitchCa",          "IssueCertificate",  "IssueCertificate",
                                         "IssueCertificate",  "IssueCertificate",  "FinishCaRotation",  "UpdateTrustBundle",
                                         "UpdateTrustBundle", "UpdateTrustBundle", "UpdateTrustBundle"};
  EXPECT_EQ(kinds, want);
  EXPECT_GT(waits, 0) << "the members were never waited for";
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_TRUE(failures_.empty()) << failures_.size() << " writes failed, the first: " << failures_.front();
    EXPECT_GT(acked_.size(), 100u);
  }
  EXPECT_TRUE(refusals_.empty()) << refusals_.size() << " of " << handshakes_ << " new connections failed, the first: "
                                 << refusals_.front();
  EXPECT_GE(reloads_.load(), 3) << "the application saw the bundle grow, its certificate change, the bundle shrink";

  // The CA Secret holds only the new CA; every bundle is that CA alone.
  auto secrets = Secrets();
  const json& ca = secrets["c-ca"];
  EXPECT_FALSE(ca["data"].contains(kNextCaCert));
  EXPECT_FALSE(ca["data"].contains(kPreviousCaCert));
  const std::string new_ca = SecretDataValue(ca, "ca.crt");
  const std::string new_ca_key = tls::ParseCert(new_ca)->subject_key_id_hex;
  EXPECT_NE(new_ca_key, old_ca_key);
  for (const char* use : {"server", "peer", "client", "operator"}) {
    EXPECT_EQ(SecretDataValue(secrets[naming::CertSecret("c", use)], "ca.crt"), new_ca) << use;
  }

  // Every member serves the new CA's certificates and refuses the old CA's client
  // certificate; nothing acknowledged was lost.
  ChildObjects children;
  children.secrets = secrets;
  const ClientTls op = OperatorClientTls(children, spec_, spec_.tls.client.enabled);
  LoopbackMembership membership(members_, op);
  const ClientTls old_app{new_ca, SecretDataValue(old_client, "tls.crt"), SecretDataValue(old_client, "tls.key")};
  for (int i = 0; i < kMembers; ++i) {
    for (const std::string& url : {members_[i].ClientUrl(), members_[i].PeerUrl()}) {
      auto probe = MembershipClient({url}, 3s, op).ProbeTls(url, op);
      ASSERT_TRUE(probe.ok()) << url << ": " << probe.status().ToString();
      EXPECT_EQ(tls::ParseCert(probe->served_pem)->authority_key_id_hex, new_ca_key) << url;
    }
    auto old = MembershipClient({members_[i].ClientUrl()}, 3s, op).ProbeTls(members_[i].ClientUrl(), old_app);
    ASSERT_TRUE(old.ok()) << old.status().ToString();
    EXPECT_FALSE(old->accepted) << "c-" << i << " still trusts the old CA";
  }
  auto count = [&]() -> int64_t {
    grpc::SslCredentialsOptions o{op.ca_pem, op.key_pem, op.cert_pem};
    auto kv = etcdserverpb::KV::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(members_[0].client_port), grpc::SslCredentials(o)));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    etcdserverpb::RangeRequest req;
    req.set_key("w-");
    req.set_range_end("w.");
    req.set_count_only(true);
    etcdserverpb::RangeResponse resp;
    return kv->Range(&ctx, req, &resp).ok() ? resp.count() : -1;
  };
  EXPECT_EQ(count(), static_cast<int64_t>(acked_.size())) << "acknowledged writes lost";
  std::printf("CA rotation under writes: %zu writes acknowledged, %zu failed, %d of %d new connections refused, "
              "%d reconcile waits, %d reloads\n",
              acked_.size(), failures_.size(), static_cast<int>(refusals_.size()), handshakes_, waits, reloads_.load());
}

}  // namespace
}  // namespace cairn::op
