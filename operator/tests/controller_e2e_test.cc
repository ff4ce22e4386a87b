// The controller end to end against the fake API server and a simulated etcd cluster
// (a fake Membership) plus a simulated StatefulSet controller/kubelet:
//   * a new EtcdCluster gets its children with owner references, bootstraps, and
//     reports Running/Available in .status (written only when it changes);
//   * scaling 3 -> 5 -> 3 goes through learners and removals and cleans up volumes;
//   * a controller stopped mid-scale and replaced by a fresh one converges (nothing is
//     remembered between passes);
//   * every action taken is a Normal Event on the EtcdCluster, and a failing one a
//     Warning whose repeats are aggregated into one Event's count.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <yaml-cpp/yaml.h>

#include "operator/api/base64.h"
#include "operator/api/naming.h"
#include "operator/controller/controller.h"
#include "operator/controller/observe.h"
#include "operator/controller/reconciler.h"
#include "operator/kube/client.h"
#include "operator/reconcile/status_builder.h"
#include "operator/resources/builders.h"
#include "operator/tests/cluster_role.h"
#include "operator/tests/fake_apiserver.h"
#include "operator/tls/certs.h"

namespace cairn::op {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using testing::FakeApiServer;
namespace types = kube::types;

// One simulated etcd cluster. Members start when their pod exists and their bootstrap
// entry is written; every change pokes a pod so the controller hears about it, as it
// would from a real pod's readiness change.
struct SimCluster {
  std::mutex mu;
  std::vector<MemberState> members;
  uint64_t next_id = 0x1000;
  std::vector<std::string> log;  // membership calls, in order
  bool auth_enabled = false;
  std::optional<std::string> root_password;  // once root exists
};

class FakeMembership : public Membership {
 public:
  FakeMembership(SimCluster& c, ClientAuth auth) : c_(c), auth_(std::move(auth)) {}
  Result<std::vector<MemberState>> Observe() override {
    std::lock_guard<std::mutex> lock(c_.mu);
    if (c_.members.empty()) return Status::Unavailable("no member answers");
    return c_.members;
  }
  Status AddLearner(const std::string& peer_url) override {
    std::lock_guard<std::mutex> lock(c_.mu);
    MemberState m;
    m.id = c_.next_id++;
    m.peer_url = peer_url;
    m.is_learner = true;
    c_.members.push_back(m);
    c_.log.push_back("add " + peer_url);
    return Status::Ok();
  }
  Status UpdatePeerUrl(uint64_t id, const std::string& peer_url) override {
    std::lock_guard<std::mutex> lock(c_.mu);
    for (auto& m : c_.members) {
      if (m.id != id) continue;
      m.peer_url = peer_url;
      c_.log.push_back("update " + m.name + " " + peer_url);
      return Status::Ok();
    }
    return Status::NotFound("no such member");
  }
  Status Promote(uint64_t id) override {
    std::lock_guard<std::mutex> lock(c_.mu);
    for (auto& m : c_.members) {
      if (m.id != id) continue;
      if (m.name.empty()) return Status::FailedPrecondition("learner not started");
      m.is_learner = false;
      c_.log.push_back("promote " + m.name);
      return Status::Ok();
    }
    return Status::NotFound("no such member");
  }
  Status Remove(uint64_t id) override {
    std::lock_guard<std::mutex> lock(c_.mu);
    for (auto it = c_.members.begin(); it != c_.members.end(); ++it) {
      if (it->id != id) continue;
      if (it->is_leader) return Status::FailedPrecondition("removing the leader");
      c_.log.push_back("remove " + it->name);
      c_.members.erase(it);
      return Status::Ok();
    }
    return Status::NotFound("no such member");
  }
  Status MoveLeader(uint64_t to) override {
    std::lock_guard<std::mutex> lock(c_.mu);
    for (auto& m : c_.members) m.is_leader = m.id == to;
    c_.log.push_back("move-leader " + naming::MemberIdHex(to));
    return Status::Ok();
  }
  Status LinearizableRead() override { return Status::Ok(); }
  Result<TlsProbe> ProbeTls(const std::string& https_url, const ClientTls&) override {
    return Status::Unavailable("the simulated members have no TLS listener: " + https_url);
  }
  // Auth as etcd keeps it: whether it is on, and root's password once root exists.
  Result<bool> AuthEnabled() override {
    std::lock_guard<std::mutex> lock(c_.mu);
    if (c_.auth_enabled && auth_.password != c_.root_password) {
      return Status::InvalidArgument("etcdserver: authentication failed, invalid user ID or password");
    }
    return c_.auth_enabled;
  }
  Status EnableAuth() override {
    std::lock_guard<std::mutex> lock(c_.mu);
    if (!c_.root_password) c_.root_password = auth_.password;
    c_.auth_enabled = true;
    c_.log.push_back("auth enable");
    return Status::Ok();
  }
  Status DisableAuth() override {
    std::lock_guard<std::mutex> lock(c_.mu);
    c_.auth_enabled = false;
    c_.log.push_back("auth disable");
    return Status::Ok();
  }

 private:
  SimCluster& c_;
  const ClientAuth auth_;
};

// The StatefulSet controller, kubelet and etcd members, one tick at a time.
class World {
 public:
  World(FakeApiServer& fake, SimCluster& sim, std::string ns, std::string name)
      : fake_(fake), sim_(sim), ns_(std::move(ns)), name_(std::move(name)) {
    thread_ = std::jthread([this](std::stop_token st) {
      while (!st.stop_requested()) {
        Tick();
        std::this_thread::sleep_for(20ms);
      }
    });
  }

 private:
  void Tick() {
    auto sts = fake_.Object(types::StatefulSet(), ns_, name_);
    if (!sts) return;
    const int replicas = (*sts)["spec"].value("replicas", 0);
    // OnDelete: a template change makes a new revision; only re-created pods get it.
    const std::string revision = name_ + "-" + resources::SpecHash((*sts)["spec"]["template"]).substr(0, 10);
    json labels = (*sts)["spec"]["template"]["metadata"]["labels"];
    labels[naming::kLabelRevision] = revision;
    bool changed = false;
    for (int i = 0; i < replicas; ++i) {
      const std::string pod = naming::Member(name_, i);
      if (!fake_.Object(types::Pod(), ns_, pod)) {
        fake_.Upsert(types::Pod(), ns_, {{"metadata", {{"name", pod}, {"labels", labels},
                                                       {"creationTimestamp", FormatTime(Clock::now())}}},
                                         {"spec", (*sts)["spec"]["template"]["spec"]},
                                         {"status", {{"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}});
        ++made_.at(static_cast<size_t>(i));
      }
      if ((*sts)["spec"].contains("volumeClaimTemplates") && !fake_.Object(types::PersistentVolumeClaim(), ns_, naming::Pvc(name_, i))) {
        fake_.Upsert(types::PersistentVolumeClaim(), ns_, {{"metadata", {{"name", naming::Pvc(name_, i)}, {"labels", labels}}}});
      }
    }
    for (const auto& pod : fake_.Objects(types::Pod(), ns_)) {
      auto ord = naming::OrdinalFromName(name_, pod["metadata"]["name"]);
      if (ord && *ord >= replicas) fake_.Remove(types::Pod(), ns_, pod["metadata"]["name"]);
    }
    const json status = {{"replicas", replicas},
                         {"readyReplicas", replicas},
                         {"updateRevision", revision},
                         {"observedGeneration", (*sts)["metadata"]["generation"]}};
    if ((*sts).value("status", json::object()) != status) {
      json s = *sts;
      s["status"] = status;
      fake_.Upsert(types::StatefulSet(), ns_, s);
    }

    auto cm = fake_.Object(types::ConfigMap(), ns_, naming::ConfigMap(name_));
    if (!cm) return;
    const json data = (*cm)["data"];
    auto pod_running = [&](int ord) { return ord < replicas && fake_.Object(types::Pod(), ns_, naming::Member(name_, ord)).has_value(); };
    {
      std::lock_guard<std::mutex> lock(sim_.mu);
      if (sim_.members.empty()) {
        // Static bootstrap: every "new" member's pod must be running.
        std::vector<int> boot;
        for (int i = 0; data.contains(naming::KeyState(naming::Member(name_, i))); ++i) {
          if (data[naming::KeyState(naming::Member(name_, i))] == "new") boot.push_back(i);
        }
        bool all = !boot.empty();
        for (int i : boot) all = all && pod_running(i);
        if (all) {
          for (int i : boot) {
            MemberState m;
            m.id = sim_.next_id++;
            m.name = naming::Member(name_, i);
            // Members advertise what their template's start script gives them.
            const PeerEndpoint peer = AdvertisedPeer(*sts);
            m.peer_url = naming::PeerUrl(name_, ns_, i, peer.tls, peer.port);
            m.healthy = true;
            m.is_leader = i == 0;
            m.raft_index = m.applied_index = 10;
            sim_.members.push_back(m);
          }
          changed = true;
        }
      }
      for (auto& m : sim_.members) {
        auto ord = naming::OrdinalFromPeerUrl(name_, m.peer_url);
        if (m.name.empty() && ord && pod_running(*ord) &&
            data.value(naming::KeyMemberId(naming::Member(name_, *ord)), "") == naming::MemberIdHex(m.id)) {
          m.name = naming::Member(name_, *ord);
          m.healthy = true;
          m.raft_index = m.applied_index = 10;
          changed = true;
        }
      }
    }
    if (changed) {
      // Readiness changes reach the controller as pod events.
      for (auto pod : fake_.Objects(types::Pod(), ns_)) {
        pod["metadata"]["annotations"]["sim/tick"] = std::to_string(++ticks_);
        fake_.Upsert(types::Pod(), ns_, pod);
      }
    }
  }

  static PeerEndpoint AdvertisedPeer(const json& sts) {
    ChildObjects children;
    children.stateful_set = sts;
    return ObserveObjects(ClusterSpec{}, children, Status::Unavailable("")).stateful_set.peer.advertised;
  }

  FakeApiServer& fake_;
  SimCluster& sim_;
  const std::string ns_, name_;
  int ticks_ = 0;
  std::array<std::atomic<int>, 16> made_{};  // pods made per ordinal, re-creations included

 public:
  // How many times the pod of `ordinal` was made (1: never replaced).
  int PodsMade(int ordinal) { return made_.at(static_cast<size_t>(ordinal)); }

 private:
  std::jthread thread_;
};

// (group, resource, verb) granted by a ClusterRole or Role manifest.
class ControllerE2E : public ::testing::Test {
 protected:
  ControllerE2E() : client_(std::move(kube::Client::Create(fake_.Config(), kube::ClientOptions{5s})).value()) {}

  void StartController(std::function<bool()> may_act = [] { return true; }) {
    ControllerOptions o;
    o.reconciler.may_act = may_act;
    o.reconciler.metrics = metrics_;
    o.reconciler.events = &events_;
    o.workers = 2;
    o.backoff_initial = 20ms;
    o.backoff_max = 500ms;
    o.informer.backoff_initial = 20ms;
    o.informer.backoff_max = 200ms;
    o.reconciler.membership = [this](const ClusterSpec&, const std::vector<std::string>&, const ClientTls& tls,
                                     const ClientAuth& auth) {
      std::lock_guard<std::mutex> lock(auth_mu_);
      last_auth_ = auth;
      if (client_tls_off_ && PodClientSchemes("etcd", fake_.Objects(types::Pod(), "db")).https) {
        (tls.cert_pem.empty() ? passes_without_certificate_ : passes_with_certificate_)++;
      }
      return std::make_unique<FakeMembership>(sim_, auth);
    };
    o.reconciler.planner.wait_requeue = 1s;
    o.reconciler.planner.resync = resync_;
    controller_ = std::make_unique<Controller>(*client_, o);
    run_ = std::jthread([this](std::stop_token st) { controller_->Run(st); });
  }
  void StopController() {
    run_.request_stop();
    run_.join();
    controller_.reset();
  }
  void TearDown() override {
    if (controller_) StopController();
  }

  json Cluster() { return fake_.Object(types::EtcdCluster(), "db", "etcd").value(); }

  // kubernetes.io/tls Secrets in "db" as a user would provide them: one CA, a leaf each.
  void UpsertUsersTlsSecrets(const std::vector<std::string>& names) {
    auto ca = tls::MakeCa("users-ca", std::chrono::hours(24 * 365), Clock::now(), tls::KeyAlgorithm::kEcdsaP256);
    ASSERT_TRUE(ca.ok());
    for (const auto& name : names) {
      auto leaf = tls::IssueLeaf(*ca, {.common_name = name, .hosts = {"*.etcd-peer.db.svc"}}, Clock::now());
      ASSERT_TRUE(leaf.ok());
      fake_.Upsert(types::Secret(), "db",
                   {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", name}, {"namespace", "db"}}},
                    {"type", "kubernetes.io/tls"},
                    {"data", {{"tls.crt", Base64Encode(leaf->cert_pem)}, {"tls.key", Base64Encode(leaf->key_pem)},
                              {"ca.crt", Base64Encode(ca->cert_pem)}}}});
    }
  }

  // Drops spec.tls from the converged cluster "etcd" and waits until every pod serves
  // plaintext: every pass made while a pod still served https had a client certificate.
  void TurnClientTlsOffExpectingTheCertificateInEveryPass() {
    ASSERT_TRUE(PodClientSchemes("etcd", fake_.Objects(types::Pod(), "db")).https);
    client_tls_off_ = true;
    ASSERT_TRUE(client_->MergePatch(types::EtcdCluster(), "db", "etcd", {{"spec", {{"tls", nullptr}}}}).ok());
    ASSERT_TRUE(Eventually([&] { return !PodClientSchemes("etcd", fake_.Objects(types::Pod(), "db")).https && Converged(3); }, 60s))
        << Cluster().dump(2);
    std::lock_guard<std::mutex> lock(auth_mu_);
    EXPECT_GT(passes_with_certificate_, 0) << "no pass ran while a pod still served https";
    EXPECT_EQ(passes_without_certificate_, 0);
  }
  template <typename F>
  bool Eventually(F f, std::chrono::milliseconds limit = 20s) {
    for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end;) {
      if (f()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return f();
  }
  bool Converged(int replicas) {
    json c = Cluster();
    json st = c.value("status", json::object());
    if (st.value("phase", "") != "Running" || st.value("observedGeneration", 0) != c["metadata"]["generation"]) return false;
    if (st.value("replicas", 0) != replicas || st.value("readyReplicas", 0) != replicas) return false;
    for (const auto& cond : st.value("conditions", json::array())) {
      if (cond["type"] == "Progressing" && cond["status"] != "False") return false;
    }
    auto sts = fake_.Object(types::StatefulSet(), "db", "etcd");
    return sts && (*sts)["spec"]["replicas"] == replicas;
  }
  void SetReplicas(int n) {
    auto r = client_->MergePatch(types::EtcdCluster(), "db", "etcd", {{"spec", {{"replicas", n}}}});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  int Voting() {
    std::lock_guard<std::mutex> lock(sim_.mu);
    return static_cast<int>(std::count_if(sim_.members.begin(), sim_.members.end(), [](auto& m) { return !m.is_learner; }));
  }

  ClientAuth LastAuth() {
    std::lock_guard<std::mutex> lock(auth_mu_);
    return last_auth_;
  }

  FakeApiServer fake_;
  SimCluster sim_;
  std::mutex auth_mu_;
  ClientAuth last_auth_;  // what the last pass dialed members as; guarded by auth_mu_
  // Once client TLS is turned off: passes while some pod still served https, by whether
  // they dialed with the operator's certificate.
  std::atomic<bool> client_tls_off_{false};
  int passes_with_certificate_ = 0;     // guarded by auth_mu_
  int passes_without_certificate_ = 0;  // guarded by auth_mu_
  std::unique_ptr<kube::Client> client_;
  EventRecorder events_{*client_, EventRecorderOptions{}};
  std::unique_ptr<Controller> controller_;
  Metrics owned_metrics_;
  Metrics* metrics_ = nullptr;
  std::chrono::seconds resync_{30};
  std::jthread run_;
};

TEST_F(ControllerE2E, NewClusterGetsOwnedChildrenAndReportsAvailable) {
  World world(fake_, sim_, "db", "etcd");
  StartController();
  auto created = client_->Create(types::EtcdCluster(), "db",
                                 {{"apiVersion", "etcd.cairn.dev/v1alpha1"}, {"kind", "EtcdCluster"},
                                  {"metadata", {{"name", "etcd"}}}, {"spec", {{"replicas", 3}}}});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string uid = (*created)["metadata"]["uid"];
  ASSERT_TRUE(Eventually([&] { return Converged(3); })) << Cluster().dump(2);

  for (auto [type, name] : {std::pair{&types::Service(), std::string("etcd-peer")}, {&types::Service(), "etcd-client"},
                            {&types::ConfigMap(), "etcd-bootstrap"}, {&types::StatefulSet(), "etcd"},
                            {&types::PodDisruptionBudget(), "etcd"}}) {
    auto obj = fake_.Object(*type, "db", name);
    ASSERT_TRUE(obj.has_value()) << name;
    EXPECT_EQ((*obj)["metadata"]["ownerReferences"][0]["uid"], uid) << name;
    EXPECT_EQ((*obj)["metadata"]["ownerReferences"][0]["controller"], true) << name;
  }
  EXPECT_EQ(fake_.Object(types::PodDisruptionBudget(), "db", "etcd").value()["spec"]["minAvailable"], 2);
  json cm = fake_.Object(types::ConfigMap(), "db", "etcd-bootstrap").value();
  std::lock_guard<std::mutex> lock(sim_.mu);
  for (const auto& m : sim_.members) {
    int ord = *naming::OrdinalFromName("etcd", m.name);
    EXPECT_EQ(cm["data"][naming::KeyState(m.name)], "existing");
    EXPECT_EQ(cm["data"][naming::KeyMemberId(m.name)], naming::MemberIdHex(m.id));
    EXPECT_EQ(fake_.Object(types::PersistentVolumeClaim(), "db", naming::Pvc("etcd", ord))
                  .value()["metadata"]["annotations"][naming::kAnnotationMemberId], naming::MemberIdHex(m.id));
  }
  json st = Cluster()["status"];
  EXPECT_EQ(st["conditions"][0]["type"], "Available");
  EXPECT_EQ(st["conditions"][0]["status"], "True");
}

TEST_F(ControllerE2E, StatusIsWrittenOnlyWhenItChanges) {
  World world(fake_, sim_, "db", "etcd");
  StartController();
  ASSERT_TRUE(client_->Create(types::EtcdCluster(), "db", {{"metadata", {{"name", "etcd"}}}, {"spec", {{"replicas", 1}}}}).ok());
  ASSERT_TRUE(Eventually([&] { return Converged(1); })) << Cluster().dump(2);
  const int writes = fake_.CountRequests("PUT /apis/etcd.cairn.dev/v1alpha1/namespaces/db/etcdclusters/etcd/status");
  const int gets = fake_.CountRequests("GET /apis/etcd.cairn.dev/v1alpha1/namespaces/db/etcdclusters/etcd");
  // Events that do not change anything trigger passes, but no status writes.
  for (int i = 0; i < 5; ++i) {
    json sts = fake_.Object(types::StatefulSet(), "db", "etcd").value();
    sts["metadata"]["labels"]["poke"] = std::to_string(i);
    fake_.Upsert(types::StatefulSet(), "db", sts);
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(Eventually([&] { return fake_.CountRequests("GET /apis/etcd.cairn.dev/v1alpha1/namespaces/db/etcdclusters/etcd") >= gets + 3; }));
  EXPECT_EQ(fake_.CountRequests("PUT /apis/etcd.cairn.dev/v1alpha1/namespaces/db/etcdclusters/etcd/status"), writes);
}

TEST_F(ControllerE2E, ScalesUpThroughLearnersAndDownWithVolumeCleanup) {
  World world(fake_, sim_, "db", "etcd");
  StartController();
  ASSERT_TRUE(client_->Create(types::EtcdCluster(), "db", {{"metadata", {{"name", "etcd"}}}, {"spec", {{"replicas", 3}}}}).ok());
  ASSERT_TRUE(Eventually([&] { return Converged(3); })) << Cluster().dump(2);

  SetReplicas(5);
  ASSERT_TRUE(Eventually([&] { return Converged(5) && Voting() == 5; })) << Cluster().dump(2);
  EXPECT_EQ(fake_.Object(types::PodDisruptionBudget(), "db", "etcd").value()["spec"]["minAvailable"], 3);
  {
    std::lock_guard<std::mutex> lock(sim_.mu);
    std::vector<std::string> want = {"add " + naming::PeerUrl("etcd", "db", 3), "promote etcd-3",
                                     "add " + naming::PeerUrl("etcd", "db", 4), "promote etcd-4"};
    EXPECT_EQ(sim_.log, want);  // one learner at a time
  }

  SetReplicas(3);
  ASSERT_TRUE(Eventually([&] { return Converged(3) && Voting() == 3; })) << Cluster().dump(2);
  ASSERT_TRUE(Eventually([&] { return !fake_.Object(types::PersistentVolumeClaim(), "db", naming::Pvc("etcd", 4)) &&
                                      !fake_.Object(types::PersistentVolumeClaim(), "db", naming::Pvc("etcd", 3)); }));
  EXPECT_TRUE(fake_.Object(types::PersistentVolumeClaim(), "db", naming::Pvc("etcd", 2)).has_value());
  json cm = fake_.Object(types::ConfigMap(), "db", "etcd-bootstrap").value();
  EXPECT_FALSE(cm["data"].contains(naming::KeyState("etcd-4")));
}

TEST_F(ControllerE2E, AReplacedControllerConvergesFromWhereTheOldOneStopped) {
  World world(fake_, sim_, "db", "etcd");
  StartController();
  ASSERT_TRUE(client_->Create(types::EtcdCluster(), "db", {{"metadata", {{"name", "etcd"}}}, {"spec", {{"replicas", 3}}}}).ok());
  ASSERT_TRUE(Eventually([&] { return Converged(3); })) << Cluster().dump(2);
  SetReplicas(5);
  // Stop as soon as the first learner exists: mid-way through the scale-up.
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(sim_.mu);
    return sim_.members.size() >= 4;
  }, 10s));
  StopController();
  StartController();
  ASSERT_TRUE(Eventually([&] { return Converged(5) && Voting() == 5; })) << Cluster().dump(2);
  std::lock_guard<std::mutex> lock(sim_.mu);
  EXPECT_EQ(sim_.members.size(), 5u);  // no duplicate learner was added
}

TEST_F(ControllerE2E, EmptyDirClustersMarkMembersOnTheirPods) {
  World world(fake_, sim_, "db", "etcd");
  StartController();
  ASSERT_TRUE(client_->Create(types::EtcdCluster(), "db", {{"metadata", {{"name", "etcd"}}},
                                                            {"spec", {{"replicas", 3}, {"storage", {{"emptyDir", json::object()}}}}}}).ok());
  ASSERT_TRUE(Eventually([&] { return Converged(3); })) << Cluster().dump(2);
  EXPECT_TRUE(fake_.Objects(types::PersistentVolumeClaim(), "db").empty());
  std::lock_guard<std::mutex> lock(sim_.mu);
  for (const auto& m : sim_.members) {
    EXPECT_EQ(fake_.Object(types::Pod(), "db", m.name).value()["metadata"]["annotations"][naming::kAnnotationMemberId],
              naming::MemberIdHex(m.id));
  }
  // The one request only emptyDir clusters make; the RBAC test below covers the rest.
  const testing::FakeApiServer::RbacUse patch_pods{"", "pods", "patch"};
  EXPECT_TRUE(fake_.RbacUses().count(patch_pods));
  EXPECT_TRUE(testing::GrantedByClusterRole(CAIRN_SOURCE_DIR "/deploy/operator/cluster_role.yaml").count(patch_pods));
}

TEST_F(ControllerE2E, ASpecChangeRollsThePodTemplateAndKeepsReplicas) {
  World world(fake_, sim_, "db", "etcd");
  StartController();
  ASSERT_TRUE(client_->Create(types::EtcdCluster(), "db", {{"metadata", {{"name", "etcd"}}}, {"spec", {{"replicas", 3}}}}).ok());
  ASSERT_TRUE(Eventually([&] { return Converged(3); })) << Cluster().dump(2);
  const std::string old_hash = fake_.Object(types::StatefulSet(), "db", "etcd").value()["metadata"]["annotations"][naming::kAnnotationSpecHash];
  ASSERT_TRUE(client_->MergePatch(types::EtcdCluster(), "db", "etcd", {{"spec", {{"image", "cairn:9.9.9"}}}}).ok());
  ASSERT_TRUE(Eventually([&] { return Converged(3) && Cluster()["status"]["observedGeneration"] == 2; })) << Cluster().dump(2);
  json sts = fake_.Object(types::StatefulSet(), "db", "etcd").value();
  EXPECT_NE(sts["metadata"]["annotations"][naming::kAnnotationSpecHash], old_hash);
  EXPECT_EQ(sts["spec"]["template"]["spec"]["containers"][0]["image"], "cairn:9.9.9");
  EXPECT_EQ(sts["spec"]["replicas"], 3);
  EXPECT_EQ(sts["status"]["readyReplicas"], 3);  // the live status written by others survives
  // The operator, not the StatefulSet controller, replaced every pod exactly once, and
  // moved leadership away from member 0 once, before replacing its pod.
  EXPECT_EQ(sts["spec"]["updateStrategy"]["type"], "OnDelete");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(world.PodsMade(i), 2) << "pod " << i;
    EXPECT_EQ(fake_.Object(types::Pod(), "db", naming::Member("etcd", i)).value()["metadata"]["labels"][naming::kLabelRevision],
              sts["status"]["updateRevision"]);
  }
  {
    std::lock_guard<std::mutex> lock(sim_.mu);
    EXPECT_EQ(std::count_if(sim_.log.begin(), sim_.log.end(), [](const std::string& l) { return l.rfind("move-leader", 0) == 0; }), 1)
        << ::testing::PrintToString(sim_.log);
  }
  EXPECT_EQ(Cluster()["status"]["updatedReplicas"], 3);
  EXPECT_TRUE(sts["metadata"]["annotations"].contains(naming::kAnnotationTemplateChangedAt));
}

TEST_F(ControllerE2E, TurningPeerTlsOnMovesEveryMemberThroughASecondListener) {
  World world(fake_, sim_, "db", "etcd");
  StartController();
  ASSERT_TRUE(client_->Create(types::EtcdCluster(), "db", {{"metadata", {{"name", "etcd"}}}, {"spec", {{"replicas", 3}}}}).ok());
  ASSERT_TRUE(Eventually([&] { return Converged(3); })) << Cluster().dump(2);
  ASSERT_TRUE(client_->MergePatch(types::EtcdCluster(), "db", "etcd",
                                  {{"spec", {{"tls", {{"peer", {{"auto", json::object()}}}}}}}}).ok());
  auto moved = [&] {
    std::lock_guard<std::mutex> lock(sim_.mu);
    return std::all_of(sim_.members.begin(), sim_.members.end(), [](const MemberState& m) {
      return m.peer_url.rfind("https://", 0) == 0;
    });
  };
  auto template_env = [&] {
    std::map<std::string, std::string> env;
    json sts = fake_.Object(types::StatefulSet(), "db", "etcd").value();
    for (const auto& e : sts["spec"]["template"]["spec"]["containers"][0]["env"]) env[e["name"]] = e.value("value", "");
    return env;
  };
  ASSERT_TRUE(Eventually([&] { return moved() && !template_env().count(resources::kEnvPeerAlso) && Converged(3); }, 60s))
      << Cluster().dump(2);
  EXPECT_EQ(template_env()[resources::kEnvPeerScheme], "https");
  EXPECT_EQ(template_env()[resources::kEnvPeerPort], "2382");
  std::lock_guard<std::mutex> lock(sim_.mu);
  std::vector<std::string> updates;
  for (const auto& l : sim_.log) {
    if (l.rfind("update ", 0) == 0) updates.push_back(l);
  }
  EXPECT_EQ(updates.size(), 3u) << ::testing::PrintToString(sim_.log);
  for (const auto& m : sim_.members) {
    const int ord = *naming::OrdinalFromName("etcd", m.name);
    EXPECT_EQ(m.peer_url, naming::PeerUrl("etcd", "db", ord, true, naming::kPeerPortAlternate));
    EXPECT_EQ(world.PodsMade(ord), 3) << "pod " << ord << ": made, then once per template";
  }
}

// While a change of spec.tls.client rolls out, members serve both schemes: the operator
// asks the template's first, keeps its client certificate while any member may serve
// TLS, and drops the other scheme once the template agrees with the spec.
TEST(ControllerEndpoints, AClientTlsChangeIsDialedWithBothSchemesUntilTheTemplateHasIt) {
  auto spec = ClusterSpec::Parse({{"metadata", {{"name", "etcd"}, {"namespace", "db"}, {"uid", "u-1"}}},
                                  {"spec", {{"replicas", 2}, {"tls", {{"client", {{"auto", json::object()}}}}}}}});
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(MemberEndpoints(*spec, 2, false),
            (std::vector<std::string>{"http://etcd-0.etcd-peer.db.svc:2379", "http://etcd-1.etcd-peer.db.svc:2379",
                                      "https://etcd-0.etcd-peer.db.svc:2379", "https://etcd-1.etcd-peer.db.svc:2379"}));
  EXPECT_EQ(MemberEndpoints(*spec, 2, true),
            (std::vector<std::string>{"https://etcd-0.etcd-peer.db.svc:2379", "https://etcd-1.etcd-peer.db.svc:2379"}));
  ChildObjects children;
  children.secrets["etcd-operator-tls"] = {{"data", {{"ca.crt", Base64Encode("CA")}, {"tls.crt", Base64Encode("CERT")},
                                                      {"tls.key", Base64Encode("KEY")}}}};
  ClusterSpec plain = *spec;
  plain.tls.client = {};
  EXPECT_EQ(OperatorClientTls(children, plain, true).cert_pem, "CERT") << "members still serving TLS";
  EXPECT_EQ(OperatorClientTls(children, plain, false).cert_pem, "");
  EXPECT_EQ(OperatorClientTls(children, *spec, false).cert_pem, "CERT");
}

// Turning client TLS off: once the template serves plaintext, pods not yet replaced
// still serve https only, so the operator keeps dialing them there with its certificate
// (and the other way round when turning it on).
TEST(ControllerEndpoints, PodsStillOnTheOldSchemeAreDialedThereUntilReplaced) {
  auto pod = [](int ordinal, const char* scheme) {
    return json{{"metadata", {{"name", "etcd-" + std::to_string(ordinal)}}},
                {"spec", {{"containers", {{{"name", "cairn"}, {"env", {{{"name", "CLIENT_SCHEME"}, {"value", scheme}}}}}}}}}};
  };
  const ClientSchemes mixed = PodClientSchemes("etcd", {pod(0, "https"), pod(1, "http")});
  EXPECT_TRUE(mixed.https);
  EXPECT_TRUE(mixed.http);
  const ClientSchemes old = PodClientSchemes("etcd", {pod(0, "https"), pod(1, "https")});
  EXPECT_TRUE(old.https);
  EXPECT_FALSE(old.http);
  auto plain = ClusterSpec::Parse({{"metadata", {{"name", "etcd"}, {"namespace", "db"}}}, {"spec", {{"replicas", 2}}}});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(MemberEndpoints(*plain, 2, false, old),
            (std::vector<std::string>{"https://etcd-0.etcd-peer.db.svc:2379", "https://etcd-1.etcd-peer.db.svc:2379",
                                      "http://etcd-0.etcd-peer.db.svc:2379", "http://etcd-1.etcd-peer.db.svc:2379"}))
      << "each pod first where it serves now";
  EXPECT_EQ(MemberEndpoints(*plain, 2, false, mixed),
            (std::vector<std::string>{"https://etcd-0.etcd-peer.db.svc:2379", "http://etcd-1.etcd-peer.db.svc:2379",
                                      "http://etcd-0.etcd-peer.db.svc:2379", "https://etcd-1.etcd-peer.db.svc:2379"}));
  EXPECT_EQ(MemberEndpoints(*plain, 3, false, PodClientSchemes("etcd", {pod(0, "http"), pod(1, "http")})),
            (std::vector<std::string>{"http://etcd-0.etcd-peer.db.svc:2379", "http://etcd-1.etcd-peer.db.svc:2379",
                                      "http://etcd-2.etcd-peer.db.svc:2379"}))
      << "once every pod is replaced, plaintext only; an ordinal without a pod as the template serves";
  EXPECT_EQ(PodClientSchemes("etcd", {pod(0, "https"), pod(1, "http")}).https_by_ordinal,
            (std::map<int, bool>{{0, true}, {1, false}}));
}

TEST_F(ControllerE2E, FailingApiCallsAreRetriedWithBackoffAndConverge) {
  World world(fake_, sim_, "db", "etcd");
  metrics_ = &owned_metrics_;  // outlives the controller, which TearDown stops
  StartController();
  fake_.InjectError("POST /apis/apps/v1/namespaces/db/statefulsets", 500, "InternalError", 3);
  fake_.InjectError("PUT /api/v1/namespaces/db/configmaps/etcd-bootstrap", 503, "ServiceUnavailable", 3);
  fake_.InjectError("GET /api/v1/namespaces/db/pods", 500, "InternalError", 2);
  ASSERT_TRUE(client_->Create(types::EtcdCluster(), "db", {{"metadata", {{"name", "etcd"}}}, {"spec", {{"replicas", 3}}}}).ok());
  ASSERT_TRUE(Eventually([&] { return Converged(3); })) << Cluster().dump(2);
  EXPECT_GE(fake_.CountRequests("POST /apis/apps/v1/namespaces/db/statefulsets"), 4);
  EXPECT_NE(owned_metrics_.Render().find("cairn_operator_reconcile_errors_total "), std::string::npos);
  EXPECT_EQ(owned_metrics_.Render().find("cairn_operator_reconcile_errors_total 0\n"), std::string::npos);
  StopController();
}

TEST_F(ControllerE2E, ActionsAndFailuresAreRecordedAsEvents) {
  World world(fake_, sim_, "db", "etcd");
  StartController();
  fake_.InjectError("POST /apis/apps/v1/namespaces/db/statefulsets", 500, "InternalError", 3);
  ASSERT_TRUE(client_->Create(types::EtcdCluster(), "db", {{"apiVersion", "etcd.cairn.dev/v1alpha1"}, {"kind", "EtcdCluster"},
                                                            {"metadata", {{"name", "etcd"}}}, {"spec", {{"replicas", 3}}}}).ok());
  ASSERT_TRUE(Eventually([&] { return Converged(3); })) << Cluster().dump(2);
  SetReplicas(4);
  ASSERT_TRUE(Eventually([&] { return Converged(4) && Voting() == 4; })) << Cluster().dump(2);

  auto find = [&](const std::string& type, const std::string& reason) -> std::optional<json> {
    for (const auto& e : fake_.Objects(types::Event(), "db")) {
      if (e["type"] == type && e["reason"] == reason) return e;
    }
    return std::nullopt;
  };
  const std::string uid = Cluster()["metadata"]["uid"];
  for (const char* reason : {"CreatingPeerService", "CreatingStatefulSet", "AddingLearner", "StartingLearner",
                             "PromotingLearner"}) {
    auto e = find("Normal", reason);
    ASSERT_TRUE(e.has_value()) << reason;
    EXPECT_EQ((*e)["involvedObject"]["uid"], uid) << reason;
    EXPECT_EQ((*e)["involvedObject"]["kind"], "EtcdCluster") << reason;
  }
  EXPECT_NE(find("Normal", "AddingLearner").value()["message"].get<std::string>().find("etcd-3"), std::string::npos);
  auto failed = find("Warning", "FailedCreateStatefulSet");
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ((*failed)["count"], 3);  // three failures, one Event
  int warnings = 0;
  for (const auto& e : fake_.Objects(types::Event(), "db")) warnings += e["reason"] == "FailedCreateStatefulSet";
  EXPECT_EQ(warnings, 1);
}

// spec.auth: every pass dials the members as the user in the named Secret; until the
// Secret exists the cluster gets a Warning and the operator calls without credentials.
TEST_F(ControllerE2E, MembersAreDialedAsTheUserOfTheCredentialsSecret) {
  World world(fake_, sim_, "db", "etcd");
  resync_ = 1s;
  StartController();
  ASSERT_TRUE(client_->Create(types::EtcdCluster(), "db",
                              {{"metadata", {{"name", "etcd"}}},
                               {"spec", {{"replicas", 3}, {"auth", {{"credentialsSecret", "etcd-root"}}}}}})
                  .ok());
  auto warning = [&]() -> std::optional<json> {
    for (const auto& e : fake_.Objects(types::Event(), "db")) {
      if (e["type"] == "Warning" && e["reason"] == "AuthCredentialsMissing") return e;
    }
    return std::nullopt;
  };
  ASSERT_TRUE(Eventually([&] { return warning().has_value(); }));
  EXPECT_NE((*warning())["message"].get<std::string>().find("Secret etcd-root does not exist"), std::string::npos);
  EXPECT_FALSE(LastAuth().Enabled());
  ASSERT_TRUE(Eventually([&] { return Converged(3); }, 20s)) << "missing credentials do not stop a cluster without auth";

  fake_.Upsert(types::Secret(), "db",
               {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", "etcd-root"}, {"namespace", "db"}}},
                {"data", {{"password", Base64Encode("s3cret")}}}});
  ASSERT_TRUE(Eventually([&] { return LastAuth().Enabled(); }, 10s));
  EXPECT_EQ(LastAuth().user, "root") << "username defaults to root";
  EXPECT_EQ(LastAuth().password, "s3cret");
  fake_.Upsert(types::Secret(), "db",
               {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", "etcd-root"}, {"namespace", "db"}}},
                {"data", {{"username", Base64Encode("ops")}, {"password", Base64Encode("n3w")}}}});
  ASSERT_TRUE(Eventually([&] { return LastAuth().user == "ops" && LastAuth().password == "n3w"; }, 10s))
      << "a changed Secret is used from the next pass on";
}

// spec.auth.enabled: once the cluster is up the operator turns auth on as root with the
// Secret's password, then keeps working as root; and turns it off when told.
TEST_F(ControllerE2E, AuthIsTurnedOnAfterBootstrapAndOffAgainAsTheSpecSays) {
  World world(fake_, sim_, "db", "etcd");
  resync_ = 1s;
  StartController();
  fake_.Upsert(types::Secret(), "db",
               {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", "etcd-root"}, {"namespace", "db"}}},
                {"data", {{"password", Base64Encode("s3cret")}}}});
  ASSERT_TRUE(client_->Create(types::EtcdCluster(), "db",
                              {{"metadata", {{"name", "etcd"}}},
                               {"spec", {{"replicas", 3}, {"auth", {{"credentialsSecret", "etcd-root"}, {"enabled", true}}}}}})
                  .ok());
  auto auth_on = [&] {
    std::lock_guard<std::mutex> lock(sim_.mu);
    return sim_.auth_enabled;
  };
  ASSERT_TRUE(Eventually([&] { return auth_on() && Converged(3); }, 30s)) << Cluster().dump(2);
  {
    std::lock_guard<std::mutex> lock(sim_.mu);
    EXPECT_EQ(sim_.root_password, "s3cret");
    const auto enable = std::find(sim_.log.begin(), sim_.log.end(), "auth enable");
    ASSERT_NE(enable, sim_.log.end());
    EXPECT_EQ(std::count(sim_.log.begin(), sim_.log.end(), "auth enable"), 1);
    EXPECT_EQ(std::find_if(enable, sim_.log.end(), [](const std::string& e) { return e.rfind("add ", 0) == 0; }),
              sim_.log.end())
        << "membership changes come first";
  }
  ASSERT_TRUE(client_->MergePatch(types::EtcdCluster(), "db", "etcd", {{"spec", {{"auth", {{"enabled", false}}}}}}).ok());
  ASSERT_TRUE(Eventually([&] { return !auth_on(); }, 10s));
}

TEST_F(ControllerE2E, AReplicaThatMayNotActWritesNothing) {
  World world(fake_, sim_, "db", "etcd");
  StartController([] { return false; });
  ASSERT_TRUE(client_->Create(types::EtcdCluster(), "db", {{"metadata", {{"name", "etcd"}}}, {"spec", {{"replicas", 3}}}}).ok());
  // It does look (the pass runs) ...
  ASSERT_TRUE(Eventually([&] { return fake_.CountRequests("GET /apis/etcd.cairn.dev/v1alpha1/namespaces/db/etcdclusters/etcd") >= 1; }));
  std::this_thread::sleep_for(300ms);
  // ... but neither creates children nor writes status.
  EXPECT_FALSE(fake_.Object(types::Service(), "db", "etcd-peer").has_value());
  EXPECT_EQ(fake_.CountRequests("POST"), 1);  // only the test's own create
  EXPECT_EQ(fake_.CountRequests("PUT"), 0);
  EXPECT_FALSE(Cluster().contains("status"));
}

// spec.tls.*.certManager: the controller writes cert-manager Certificates and mounts the
// Secrets an issuer writes for them (a test issuer here, signing with its CA and putting
// the CA in ca.crt, as cert-manager's CA issuer does). The ClusterRole's cert-manager
// grants are exactly what this uses (the main RBAC test leaves them to this one).
TEST_F(ControllerE2E, CertManagerCertificatesAreRequestedAndTheirSecretsMounted) {
  World world(fake_, sim_, "db", "etcd");
  resync_ = 1s;
  StartController();
  auto ca = tls::MakeCa("issuer-ca", std::chrono::hours(24 * 365), Clock::now(), tls::KeyAlgorithm::kEcdsaP256);
  ASSERT_TRUE(ca.ok());
  std::atomic<int> issued{0};
  std::jthread issuer([&](std::stop_token stop) {
    while (!stop.stop_requested()) {
      for (const auto& cert : fake_.Objects(types::CertManagerCertificate(), "db")) {
        const json& cs = cert["spec"];
        const std::string secret = cs["secretName"];
        if (fake_.Object(types::Secret(), "db", secret)) continue;
        tls::LeafRequest req;
        req.common_name = cs["commonName"];
        for (const char* names : {"dnsNames", "ipAddresses"}) {
          for (const auto& h : cs.value(names, json::array())) req.hosts.push_back(h);
        }
        const json usages = cs["usages"];
        req.server_auth = std::find(usages.begin(), usages.end(), "server auth") != usages.end();
        req.client_auth = std::find(usages.begin(), usages.end(), "client auth") != usages.end();
        auto leaf = tls::IssueLeaf(*ca, req, Clock::now());
        if (!leaf.ok()) continue;
        fake_.Upsert(types::Secret(), "db",
                     {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", secret}, {"namespace", "db"}}},
                      {"type", "kubernetes.io/tls"},
                      {"data", {{"tls.crt", Base64Encode(leaf->cert_pem)}, {"tls.key", Base64Encode(leaf->key_pem)},
                                {"ca.crt", Base64Encode(ca->cert_pem)}}}});
        ++issued;
      }
      std::this_thread::sleep_for(20ms);
    }
  });
  const json manager = {{"certManager", {{"issuerRef", {{"name", "etcd-ca"}, {"kind", "ClusterIssuer"}}}}}};
  ASSERT_TRUE(client_->Create(types::EtcdCluster(), "db", {{"metadata", {{"name", "etcd"}}}, {"spec", {{"replicas", 3}, {"tls", {{"client", manager}, {"peer", manager}}}}}}).ok());
  ASSERT_TRUE(Eventually([&] { return Converged(3); })) << Cluster().dump(2);
  EXPECT_EQ(issued.load(), 4);
  std::set<std::string> requested;
  for (const auto& cert : fake_.Objects(types::CertManagerCertificate(), "db")) {
    requested.insert(cert["metadata"]["name"].get<std::string>());
    EXPECT_EQ(cert["spec"]["issuerRef"]["kind"], "ClusterIssuer");
    EXPECT_EQ(cert["metadata"]["ownerReferences"][0]["name"], "etcd");
  }
  EXPECT_EQ(requested, (std::set<std::string>{"etcd-client-tls", "etcd-operator-tls", "etcd-peer-tls", "etcd-server-tls"}));
  EXPECT_FALSE(fake_.Object(types::Secret(), "db", naming::CaSecret("etcd"))) << "no CA of the operator's own";
  const json sts = fake_.Object(types::StatefulSet(), "db", "etcd").value();
  std::map<std::string, std::string> mounted;
  for (const auto& v : sts["spec"]["template"]["spec"]["volumes"]) {
    if (v.contains("secret")) mounted[v["name"]] = v["secret"]["secretName"];
  }
  EXPECT_EQ(mounted, (std::map<std::string, std::string>{{"tls-peer", "etcd-peer-tls"}, {"tls-server", "etcd-server-tls"}}));
  // A Certificate that drifted from what the operator wants is written back.
  json drifted = fake_.Object(types::CertManagerCertificate(), "db", "etcd-peer-tls").value();
  drifted["metadata"]["annotations"][naming::kAnnotationSpecHash] = "stale";
  drifted["spec"]["duration"] = "1h";
  fake_.Upsert(types::CertManagerCertificate(), "db", drifted);
  ASSERT_TRUE(Eventually([&] {
    return fake_.Object(types::CertManagerCertificate(), "db", "etcd-peer-tls").value()["spec"]["duration"] == "2160h";
  }));

  auto granted = testing::GrantedByClusterRole(CAIRN_SOURCE_DIR "/deploy/operator/cluster_role.yaml");
  std::set<testing::FakeApiServer::RbacUse> used;
  for (const auto& u : fake_.RbacUses()) {
    if (u.group == "cert-manager.io") used.insert(u);
  }
  for (const auto& u : used) EXPECT_TRUE(granted.count(u)) << u.verb << " " << u.resource << " is not granted";
  for (const auto& g : granted) {
    if (g.group == "cert-manager.io") {
      EXPECT_TRUE(used.count(g)) << "unused grant: " << g.verb << " " << g.resource;
    }
  }
  EXPECT_FALSE(used.empty());
}

// spec.tls.*.secret: the controller waits for the user's Secrets, then mounts them as
// they are; it issues nothing and makes no CA.
// Turning client TLS off: the template serves plaintext at once, but pods not yet
// replaced serve https only, so until the last of them goes every pass must dial with
// the operator's certificate, though the spec no longer names any TLS.
TEST_F(ControllerE2E, TurningClientTlsOffKeepsTheOperatorsCertificateWhilePodsServeHttps) {
  World world(fake_, sim_, "db", "etcd");
  StartController();
  ASSERT_TRUE(client_->Create(types::EtcdCluster(), "db",
                              {{"metadata", {{"name", "etcd"}}},
                               {"spec", {{"replicas", 3}, {"tls", {{"client", {{"auto", json::object()}}}}}}}})
                  .ok());
  ASSERT_TRUE(Eventually([&] { return Converged(3); }, 30s)) << Cluster().dump(2);
  TurnClientTlsOffExpectingTheCertificateInEveryPass();
}

// The same with the user's Secrets (spec.tls.client.secret): once the spec drops them,
// the operator's certificate is the one the StatefulSet recorded, not the default name.
TEST_F(ControllerE2E, TurningProvidedClientTlsOffKeepsTheUsersOperatorCertificateWhilePodsServeHttps) {
  World world(fake_, sim_, "db", "etcd");
  StartController();
  UpsertUsersTlsSecrets({"my-server", "my-op"});
  const json tls = {{"client", {{"secret", {{"serverSecretName", "my-server"}, {"operatorSecretName", "my-op"}}}}}};
  ASSERT_TRUE(client_->Create(types::EtcdCluster(), "db", {{"metadata", {{"name", "etcd"}}}, {"spec", {{"replicas", 3}, {"tls", tls}}}}).ok());
  ASSERT_TRUE(Eventually([&] { return Converged(3); }, 30s)) << Cluster().dump(2);
  EXPECT_EQ(fake_.Object(types::StatefulSet(), "db", "etcd")->at("metadata")["annotations"].value(
                naming::kAnnotationOperatorTlsSecret, ""),
            "my-op");
  TurnClientTlsOffExpectingTheCertificateInEveryPass();
}

TEST_F(ControllerE2E, ProvidedTlsSecretsAreWaitedForThenMountedAndNothingIsIssued) {
  World world(fake_, sim_, "db", "etcd");
  resync_ = 1s;
  StartController();
  const json tls = {{"client", {{"secret", {{"serverSecretName", "my-server"}, {"operatorSecretName", "my-op"}}}}},
                    {"peer", {{"secret", {{"secretName", "my-peer"}}}}}};
  ASSERT_TRUE(client_->Create(types::EtcdCluster(), "db", {{"metadata", {{"name", "etcd"}}}, {"spec", {{"replicas", 3}, {"tls", tls}}}}).ok());
  ASSERT_TRUE(Eventually([&] {
    for (const auto& cond : Cluster().value("status", json::object()).value("conditions", json::array())) {
      if (cond["type"] == "Progressing" && cond["reason"] == "TlsSecretNotReady") return true;
    }
    return false;
  })) << Cluster().dump(2);
  EXPECT_FALSE(fake_.Object(types::StatefulSet(), "db", "etcd")) << "members cannot start without their certificates";

  UpsertUsersTlsSecrets({"my-server", "my-op", "my-peer"});
  ASSERT_TRUE(Eventually([&] { return Converged(3); })) << Cluster().dump(2);
  std::map<std::string, std::string> mounted;
  const json sts = fake_.Object(types::StatefulSet(), "db", "etcd").value();
  for (const auto& v : sts["spec"]["template"]["spec"]["volumes"]) {
    if (v.contains("secret")) mounted[v["name"]] = v["secret"]["secretName"];
  }
  EXPECT_EQ(mounted, (std::map<std::string, std::string>{{"tls-peer", "my-peer"}, {"tls-server", "my-server"}}));
  EXPECT_FALSE(fake_.Object(types::Secret(), "db", naming::CaSecret("etcd")));
  EXPECT_EQ(Cluster()["status"]["certificates"]["server"]["serial"], tls::ParseCert(
      *Base64Decode(fake_.Object(types::Secret(), "db", "my-server").value()["data"]["tls.crt"].get<std::string>()))->serial_hex);
}

// The operator's RBAC is derived from what it does: every request a full life cycle
// makes (create, scale up and down, a stale child, a rollout, failures reported as
// Events) must be granted by deploy/operator's ClusterRole (which the chart's rules
// equal, see chart_deploy_parity_test), and every grant must have been used.
TEST_F(ControllerE2E, TheClusterRoleGrantsExactlyTheRequestsTheOperatorMakes) {
  World world(fake_, sim_, "db", "etcd");
  resync_ = 2s;  // Secrets are not watched: a damaged one is mended at the next resync
  metrics_ = &owned_metrics_;  // outlives the controller, which TearDown stops
  StartController();
  const json tls = {{"client", {{"auto", json::object()}}}, {"peer", {{"auto", json::object()}}}};
  ASSERT_TRUE(client_->Create(types::EtcdCluster(), "db", {{"metadata", {{"name", "etcd"}}}, {"spec", {{"replicas", 3}, {"tls", tls}}}}).ok());
  ASSERT_TRUE(Eventually([&] { return Converged(3); })) << Cluster().dump(2);
  // Alerting can see the earliest expiry: the 90-day leaves, not the 5-year CA.
  const std::string gauge = "cairn_operator_certificate_expiry_seconds{cluster=\"db/etcd\"} ";
  const std::string text = owned_metrics_.Render();
  ASSERT_NE(text.find(gauge), std::string::npos) << text;
  const double left = std::stod(text.substr(text.find(gauge) + gauge.size()));
  EXPECT_GT(left, 89 * 86400.0);
  EXPECT_LE(left, 90 * 86400.0 + 300);
  // A certificate whose Secret was damaged is issued again into the same Secret.
  json damaged = fake_.Object(types::Secret(), "db", "etcd-peer-tls").value();
  damaged["data"]["tls.key"] = "";
  fake_.Upsert(types::Secret(), "db", damaged);
  ASSERT_TRUE(Eventually([&] { return !fake_.Object(types::Secret(), "db", "etcd-peer-tls").value()["data"]["tls.key"].get<std::string>().empty(); }));
  SetReplicas(4);
  ASSERT_TRUE(Eventually([&] { return Converged(4) && Voting() == 4; })) << Cluster().dump(2);
  SetReplicas(3);
  ASSERT_TRUE(Eventually([&] { return Converged(3) && !fake_.Object(types::PersistentVolumeClaim(), "db", naming::Pvc("etcd", 3)); }))
      << Cluster().dump(2);
  json svc = fake_.Object(types::Service(), "db", naming::ClientService("etcd")).value();
  svc["metadata"]["annotations"][naming::kAnnotationSpecHash] = "stale";
  fake_.Upsert(types::Service(), "db", svc);
  // A failing step is a Warning Event; its repeat is aggregated into the same Event.
  fake_.InjectError("PUT /apis/apps/v1/namespaces/db/statefulsets/etcd", 500, "InternalError", 4);
  ASSERT_TRUE(client_->MergePatch(types::EtcdCluster(), "db", "etcd", {{"spec", {{"image", "cairn:9.9.9"}}}}).ok());
  ASSERT_TRUE(Eventually([&] { return Converged(3) && Cluster()["status"].value("updatedReplicas", 0) == 3; })) << Cluster().dump(2);
  ASSERT_TRUE(Eventually([&] {
    return fake_.Object(types::Service(), "db", naming::ClientService("etcd")).value()["metadata"]["annotations"][naming::kAnnotationSpecHash] != "stale";
  }));

  auto granted = testing::GrantedByClusterRole(CAIRN_SOURCE_DIR "/deploy/operator/cluster_role.yaml");
  std::set<testing::FakeApiServer::RbacUse> used;
  for (const auto& u : fake_.RbacUses()) {
    // The test's own requests (creating and patching the EtcdCluster) are the user's.
    if (u.resource == "etcdclusters" && (u.verb == "create" || u.verb == "patch")) continue;
    used.insert(u);
  }
  for (const auto& u : used) {
    EXPECT_TRUE(granted.count(u)) << "the operator " << u.verb << "s " << u.resource << " (group \"" << u.group
                                  << "\") but the ClusterRole does not allow it";
  }
  for (const auto& g : granted) {
    // Events go to whichever of the two APIs the cluster serves; the fake serves core/v1.
    // Pods are patched only in emptyDir clusters (EmptyDirClustersMarkMembersOnTheirPods).
    // EtcdBackups are the BackupController's: backup_controller_test checks those grants.
    if (g.group == "events.k8s.io" || (g.resource == "pods" && g.verb == "patch")) continue;
    if (g.resource.rfind("etcdbackups", 0) == 0) continue;
    if (g.group == "cert-manager.io") continue;  // CertManagerCertificatesAreRequestedAndTheirSecretsMounted
    if (g.resource == "pods" && (g.verb == "create" || g.verb == "get")) continue;  // backup verification
    EXPECT_TRUE(used.count(g)) << "the ClusterRole grants " << g.verb << " on " << g.resource << " (group \"" << g.group
                               << "\"), which the operator never used: least privilege says remove it";
  }
}

}  // namespace
}  // namespace cairn::op
