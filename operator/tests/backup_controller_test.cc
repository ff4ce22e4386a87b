// BackupController end to end: the fake API server holds the EtcdCluster, EtcdBackups and
// the credentials Secret; a real Cairn member serves the snapshot; a real s3rver stores
// it. Checks the life cycle of manual and scheduled backups, their failures, retention,
// one run at a time per cluster, and the RBAC grants backups need.
#include "operator/controller/backup_controller.h"

#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <sstream>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"
#include "operator/api/base64.h"
#include "operator/api/naming.h"
#include "operator/api/time_format.h"
#include "operator/backup/delta_segment.h"
#include "operator/backup/full_backup.h"
#include "operator/controller/executor.h"
#include "operator/controller/reconciler.h"
#include "operator/s3/tests/s3rver_process.h"
#include "operator/tests/cluster_role.h"
#include "operator/tests/enable_auth.h"
#include "operator/tests/etcd_process.h"
#include "operator/tests/fake_apiserver.h"
#include "server/common/test_dir.h"

namespace cairn::op {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
namespace types = kube::types;

constexpr const char* kBucket = "etcd-backups";
const json kResources = {{"requests", {{"cpu", "250m"}, {"memory", "512Mi"}}}, {"limits", {{"memory", "1Gi"}}}};

void Write(const testing::EtcdMember& m, int n) {
  auto kv = etcdserverpb::KV::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(m.client_port),
                                                          grpc::InsecureChannelCredentials()));
  for (int i = 0; i < n; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    ctx.set_wait_for_ready(true);
    etcdserverpb::PutRequest req;
    req.set_key("k" + std::to_string(i));
    req.set_value(std::string(200, static_cast<char>('a' + i % 26)));
    etcdserverpb::PutResponse resp;
    ASSERT_TRUE(kv->Put(&ctx, req, &resp).ok());
  }
}

std::map<std::string, std::pair<std::string, int64_t>> ReadAll(const testing::EtcdMember& m, int64_t* revision,
                                                                uint64_t* cluster_id) {
  auto kv = etcdserverpb::KV::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(m.client_port),
                                                          grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  ctx.set_wait_for_ready(true);
  etcdserverpb::RangeRequest req;
  req.set_key(std::string(1, '\0'));
  req.set_range_end(std::string(1, '\0'));
  etcdserverpb::RangeResponse resp;
  EXPECT_TRUE(kv->Range(&ctx, req, &resp).ok());
  *revision = resp.header().revision();
  *cluster_id = resp.header().cluster_id();
  std::map<std::string, std::pair<std::string, int64_t>> out;
  for (const auto& k : resp.kvs()) out[k.key()] = {k.value(), k.mod_revision()};
  return out;
}

// A member of the new cluster "copy" bootstrapped from a backup, with what it serves.
struct RestoredCopy {
  std::map<std::string, std::pair<std::string, int64_t>> data;
  int64_t revision = 0;
  uint64_t cluster = 0;
  testing::EtcdMember member;
  std::string root;  // its data root
  int pid = 0;       // of its start script, which the test kills (KillAtEnd)
};

struct KillAtEnd {
  int pid;
  ~KillAtEnd() {
    if (pid > 0) kill(pid, SIGKILL);
  }
};

class BackupControllerTest : public ::testing::Test {
 protected:
  BackupControllerTest() : client_(std::move(kube::Client::Create(fake_.Config(), kube::ClientOptions{5s})).value()) {}

  void SetUp() override {
    if (std::getenv("CAIRN_MEMBERSHIP_SERVER") == nullptr) GTEST_SKIP() << "needs CAIRN_MEMBERSHIP_SERVER=<cairn>";
    if (!s3::testing::S3rverInstalled()) GTEST_SKIP() << "s3rver is not installed: run tools/install-s3rver.sh";
    const int base = testing::PortBase();
    member_ = {"etcd-0", base, base + 1};
    proc_ = std::make_unique<testing::EtcdProcess>(member_, "etcd-0=" + member_.PeerUrl(), "new", dir_.Join("m"));
    Write(member_, 200);
    s3rver_ = std::make_unique<s3::testing::S3rverProcess>(dir_.path(), kBucket);
    ASSERT_TRUE(s3rver_->WaitReady()) << s3rver_->Log();
    fake_.Upsert(types::Secret(), "db",
                 {{"metadata", {{"name", "s3-creds"}, {"namespace", "db"}}},
                  {"data", {{"AWS_ACCESS_KEY_ID", Base64Encode("S3RVER")}, {"AWS_SECRET_ACCESS_KEY", Base64Encode("S3RVER")}}}});
    fake_.Upsert(types::Secret(), "db",
                 {{"metadata", {{"name", "wrong-creds"}, {"namespace", "db"}}},
                  {"data", {{"AWS_ACCESS_KEY_ID", Base64Encode("NOBODY")}, {"AWS_SECRET_ACCESS_KEY", Base64Encode("x")}}}});
  }
  void TearDown() override { StopController(); }

  json Destination(const std::string& secret = "s3-creds") {
    return {{"s3",
             {{"endpoint", "http://127.0.0.1:" + std::to_string(s3rver_->port())},
              {"bucket", kBucket},
              {"prefix", "prod"},
              {"forcePathStyle", true},
              {"credentialsSecret", {{"name", secret}}}}}};
  }
  // A pvc destination: the claim "backups", objects under "team/".
  json Claim() { return {{"pvc", {{"claimName", "backups"}, {"prefix", "team"}}}}; }
  // As the kubelet would: runs the backup Pod's container with the claim's directory at
  // `volume`, then records its end in the Pod's status, the result file as the
  // termination message. Returns the container's exit code.
  int RunBackupPod(const std::string& backup, const std::string& volume) {
    const json pod = fake_.Object(types::Pod(), "db", backup + "-backup").value();
    const std::string result = dir_.Join(backup + ".result");
    std::string cmd;
    for (const auto& env : pod["spec"]["containers"][0].value("env", json::array())) {
      const json ref = env["valueFrom"]["secretKeyRef"];
      auto secret = fake_.Object(types::Secret(), "db", ref["name"]);
      const std::string value = secret ? SecretDataValue(*secret, ref["key"].get<std::string>().c_str()) : "";
      if (!value.empty()) cmd += env["name"].get<std::string>() + "='" + value + "' ";
    }
    cmd += CAIRN_OPERATOR_BIN;
    for (const auto& a : pod["spec"]["containers"][0]["args"]) {
      const std::string arg = a.get<std::string>();
      cmd += " '" + (arg == "--dir=/backup" ? "--dir=" + volume : arg) + "'";
    }
    cmd += " --result-file=" + result + " > " + result + ".log 2>&1";
    const int rc = WEXITSTATUS(std::system(cmd.c_str()));
    std::stringstream message;
    message << std::ifstream(result).rdbuf();
    json ended = pod;
    ended["status"] = {
        {"phase", rc == 0 ? "Succeeded" : "Failed"},
        {"containerStatuses",
         {{{"name", "backup"}, {"state", {{"terminated", {{"exitCode", rc}, {"message", message.str()}}}}}}}}};
    fake_.Upsert(types::Pod(), "db", ended);
    return rc;
  }
  // Bootstraps the new cluster "copy" from spec.bootstrap.restore `restore` (with deltas)
  // and checks that it serves exactly `want` at `revision`, under a new cluster ID.
  void ExpectCopyServes(const json& restore, const std::map<std::string, std::pair<std::string, int64_t>>& want,
                        int64_t revision, uint64_t source_cluster) {
    auto reconciler = CopyCluster(restore);
    RestoredCopy copy = BootstrapCopy(*reconciler);
    KillAtEnd kill_at_end{copy.pid};
    EXPECT_EQ(copy.data, want);
    EXPECT_EQ(copy.revision, revision);
    EXPECT_NE(copy.cluster, source_cluster);
    EXPECT_FALSE(std::filesystem::exists(copy.root + "/restore.deltas")) << "removed once replayed";
  }
  // The newest revision in the delta segments of cluster db/etcd under "prod/" (0: none).
  int64_t LastShippedRevision() {
    int64_t last = 0;
    const auto keys = Store()->List("prod/db/etcd/");
    if (!keys.ok()) return 0;
    for (const auto& k : *keys) {
      if (auto seg = backup::ParseDeltaSegmentName("prod/db/etcd/", k)) last = std::max(last, seg->last);
    }
    return last;
  }
  // A controller that verifies every backup in a scratch member the test serves on `port`.
  void StartVerifyingController(int port) {
    BackupControllerOptions o = Options();
    o.operator_image = "cairn-operator:test";
    o.verify_timeout = std::chrono::hours(24 * 400);  // the fake dates every Pod 2026-01-01
    o.verify_url = [port](const json&) { return "http://127.0.0.1:" + std::to_string(port); };
    controller_ = std::make_unique<BackupController>(*client_, o);
    run_ = std::jthread([this](std::stop_token st) { controller_->Run(st); });
  }
  // As the kubelet would: runs backup `name`'s verify Pod (its fetch init container, then
  // the scratch member on `port` and `port`+1), marks it Running, and waits until the
  // controller recorded its verdict; then stops the member.
  void RunVerifyPod(const std::string& name, int port) {
    const json pod = fake_.Object(types::Pod(), "db", name + "-verify").value();
    const std::string work = dir_.Join(name + "-work");
    std::filesystem::create_directories(work);
    auto localize = [&](std::string text) {
      for (size_t at; (at = text.find("/work")) != std::string::npos;) text.replace(at, 5, work);
      return text;
    };
    std::string fetch = std::string("AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER ") + CAIRN_OPERATOR_BIN;
    for (const auto& a : pod["spec"]["initContainers"][0]["args"]) fetch += " '" + localize(a.get<std::string>()) + "'";
    ASSERT_EQ(std::system((fetch + " > " + work + ".fetch.log 2>&1").c_str()), 0) << fetch;
    const std::string script = localize(pod["spec"]["containers"][0]["command"][2].get<std::string>());
    std::ofstream(work + ".sh") << script;
    const std::string serve = std::string("CAIRN_BIN=") + std::getenv("CAIRN_MEMBERSHIP_SERVER") + " /bin/sh " + work +
                              ".sh --listen-client-urls=http://127.0.0.1:" + std::to_string(port) +
                              " --listen-peer-urls=http://127.0.0.1:" + std::to_string(port + 1) +
                              " --initial-advertise-peer-urls=http://127.0.0.1:" + std::to_string(port + 1) +
                              " --initial-cluster=verify=http://127.0.0.1:" + std::to_string(port + 1) + " > " + work +
                              ".log 2>&1 & echo $! > " + work + ".pid";
    ASSERT_EQ(std::system(serve.c_str()), 0);
    json running = pod;
    running["status"] = {{"phase", "Running"}, {"podIP", "127.0.0.1"}};
    fake_.Upsert(types::Pod(), "db", running);
    const bool answered = Eventually([&] { return Backup(name)->at("status").contains("verified"); }, 30s);
    std::ifstream pid_file(work + ".pid");
    int pid = 0;
    pid_file >> pid;
    if (pid > 0) kill(pid, SIGKILL);
    ASSERT_TRUE(answered) << Backup(name)->dump(2);
  }
  // Options for backups to a claim: Pods run this image, and (the fake API server dates
  // every Pod 2026-01-01) none is given up on for being old.
  BackupControllerOptions PodOptions() {
    BackupControllerOptions o = Options();
    o.operator_image = "cairn-operator:test";
    o.backup_pod_start_timeout = std::chrono::hours(24 * 400);
    o.verify_timeout = std::chrono::hours(24 * 400);
    return o;
  }
  void CreateCluster(json backup = nullptr) {
    json spec = {{"replicas", 1}, {"resources", kResources}};
    if (!backup.is_null()) spec["backup"] = backup;
    // Created now, as a real API server would stamp it (the schedule counts from it).
    fake_.Upsert(types::EtcdCluster(), "db",
                 {{"metadata", {{"name", "etcd"}, {"namespace", "db"}, {"creationTimestamp", FormatTime(Clock::now())}}},
                  {"spec", spec}});
  }
  void CreateBackup(const std::string& name, json spec) {
    ASSERT_TRUE(client_->Create(types::EtcdBackup(), "db", {{"metadata", {{"name", name}}}, {"spec", spec}}).ok());
  }
  BackupControllerOptions Options() {
    BackupControllerOptions o;
    o.informer.backoff_initial = 20ms;
    o.informer.backoff_max = 200ms;
    o.backoff_initial = 20ms;
    o.backoff_max = 500ms;
    o.busy_retry = 100ms;
    o.member_timeout = 2s;
    o.metrics = &metrics_;
    o.clock = [this] { return Clock::now() + std::chrono::seconds(clock_offset_.load()); };
    o.endpoints = [this](const ClusterSpec&) { return std::vector<std::string>{member_.ClientUrl()}; };
    return o;
  }
  void StartController() {
    controller_ = std::make_unique<BackupController>(*client_, Options());
    run_ = std::jthread([this](std::stop_token st) { controller_->Run(st); });
  }
  void StopController() {
    if (!controller_) return;
    if (run_.joinable()) {
      run_.request_stop();
      run_.join();
    }
    controller_.reset();
  }
  std::optional<json> Backup(const std::string& name) { return fake_.Object(types::EtcdBackup(), "db", name); }
  std::string Phase(const std::string& name) {
    auto b = Backup(name);
    return b ? b->value("status", json::object()).value("phase", "") : "<gone>";
  }
  template <typename F>
  bool Eventually(F f, std::chrono::milliseconds limit = 30s) {
    for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end;) {
      if (f()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return f();
  }
  std::unique_ptr<backup::ObjectStore> Store() {
    s3::ClientConfig c;
    c.endpoint = "http://127.0.0.1:" + std::to_string(s3rver_->port());
    c.bucket = kBucket;
    c.credentials = {"S3RVER", "S3RVER", ""};
    return backup::NewS3Store(std::move(s3::Client::Create(c).value()), kBucket);
  }
  int64_t Revision() {
    auto kv = etcdserverpb::KV::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(member_.client_port),
                                                            grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    etcdserverpb::RangeRequest req;
    req.set_key("k0");
    etcdserverpb::RangeResponse resp;
    EXPECT_TRUE(kv->Range(&ctx, req, &resp).ok());
    return resp.header().revision();
  }

  // The new one-member cluster "copy" with spec.bootstrap.restore `restore`, and the
  // cluster Reconciler that bootstraps it.
  std::unique_ptr<Reconciler> CopyCluster(const json& restore) {
    ReconcilerOptions ro;
    ro.operator_image = "cairn-operator:test";
    ro.membership = EtcdMembershipFactory(1s);
    fake_.Upsert(types::EtcdCluster(), "db",
                 {{"metadata", {{"name", "copy"}, {"namespace", "db"}, {"uid", "uid-copy"}}},
                  {"spec", {{"replicas", 1}, {"bootstrap", {{"restore", restore}}}}}});
    return std::make_unique<Reconciler>(*client_, ro);
  }
  // Reconciles the new cluster "copy" until its StatefulSet exists, then runs
  // its ConfigMap's scripts for real, as the kubelet would run copy-0's two containers
  // (fetch with cairn-operator, restore and start with cairn), and reads what it serves.
  // With `volume`, the backup is on a claim whose directory that is.
  RestoredCopy BootstrapCopy(Reconciler& reconciler, const std::string& volume = "") {
    RestoredCopy copy;
    for (int i = 0; i < 6 && !fake_.Object(types::StatefulSet(), "db", "copy"); ++i) {
      EXPECT_TRUE(reconciler.Reconcile("db", "copy").status.ok());
    }
    auto sts = fake_.Object(types::StatefulSet(), "db", "copy");
    EXPECT_TRUE(sts.has_value());
    if (!sts) return copy;
    EXPECT_EQ(sts->at("spec")["template"]["spec"]["initContainers"][0].value("image", ""), "cairn-operator:test");
    const json secret = fake_.Object(types::Secret(), "db", naming::RestoreSecret("copy")).value();
    if (volume.empty()) {
      EXPECT_EQ(secret["data"].value("AWS_ACCESS_KEY_ID", ""), Base64Encode("S3RVER"));
    }
    const json data = fake_.Object(types::ConfigMap(), "db", naming::ConfigMap("copy")).value()["data"];
    const std::string cfg = dir_.Join("copy-cfg");
    copy.root = dir_.Join("copy-root");
    std::filesystem::create_directories(cfg);
    std::filesystem::create_directories(copy.root);
    for (const auto& [key, value] : data.items()) std::ofstream(cfg + "/" + key) << value.get<std::string>();
    const std::string env = "POD_NAME=copy-0 POD_NAMESPACE=db PEER_SERVICE=copy-peer CAIRN_BOOTSTRAP_DIR=" + cfg +
                            " CAIRN_DATA_ROOT=" + copy.root +
                            (volume.empty() ? " AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER"
                                            : " CAIRN_BACKUP_DIR=" + volume);
    const std::string fetch = "env " + env + " CAIRN_OPERATOR_BIN=" + CAIRN_OPERATOR_BIN + " /bin/sh " + cfg +
                              "/fetch-backup.sh > " + dir_.Join("fetch.log") + " 2>&1";
    EXPECT_EQ(std::system(fetch.c_str()), 0) << fetch;
    EXPECT_TRUE(std::filesystem::exists(copy.root + "/restore.db"));
    const int base = member_.client_port + 2;
    copy.member = {"copy-0", base, base + 1};
    const std::string start = "env " + env + " CAIRN_BIN=" + std::getenv("CAIRN_MEMBERSHIP_SERVER") + " /bin/sh " +
                              cfg + "/run.sh --listen-client-urls=" + copy.member.ClientUrl() +
                              " --listen-peer-urls=" + copy.member.PeerUrl() + " --listen-metrics-urls=http://127.0.0.1:" +
                              std::to_string(base + 2) + " > " + dir_.Join("copy.log") + " 2>&1 & echo $! > " +
                              dir_.Join("copy.pid");
    EXPECT_EQ(std::system(start.c_str()), 0);
    Eventually([&] {
      copy.data = ReadAll(copy.member, &copy.revision, &copy.cluster);
      return !copy.data.empty();
    }, 20s);
    std::ifstream(dir_.Join("copy.pid")) >> copy.pid;
    return copy;
  }

  TempDir dir_;
  testing::FakeApiServer fake_;
  std::unique_ptr<kube::Client> client_;
  testing::EtcdMember member_;
  std::unique_ptr<testing::EtcdProcess> proc_;
  std::unique_ptr<s3::testing::S3rverProcess> s3rver_;
  Metrics metrics_;
  std::atomic<int64_t> clock_offset_{0};
  std::unique_ptr<BackupController> controller_;
  std::jthread run_;
};

TEST_F(BackupControllerTest, AnEtcdBackupStreamsToS3AndRecordsWhatItStored) {
  CreateCluster();
  StartController();
  CreateBackup("now", {{"clusterName", "etcd"}, {"destination", Destination()}, {"compression", "gzip"}});
  ASSERT_TRUE(Eventually([&] { return Phase("now") == "Succeeded"; })) << Backup("now")->dump(2);
  const json st = Backup("now")->at("status");
  EXPECT_EQ(st.value("revision", 0), Revision());
  EXPECT_EQ(st.value("compression", ""), "gzip");
  EXPECT_EQ(st.value("version", ""), "0.1.0");
  EXPECT_EQ(st.value("cluster", ""), "etcd");
  EXPECT_EQ(st.value("sha256", "").size(), 64u);
  const std::string key = st.value("objectKey", "");
  EXPECT_EQ(key.rfind("prod/db/etcd/full-", 0), 0u) << key;
  EXPECT_EQ(st.value("objectURL", ""), std::string("s3://") + kBucket + "/" + key);
  EXPECT_FALSE(st.value("startTime", "").empty());
  EXPECT_FALSE(st.value("completionTime", "").empty());
  // The object restores: its manifest agrees with the status, and fetching checks every byte.
  auto store = Store();
  size_t bytes = 0;
  auto fetched = backup::FetchBackup(*store, backup::ManifestName(key), [&](const char*, size_t n) {
    bytes += n;
    return Status::Ok();
  });
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_EQ(fetched->object_sha256, st.value("sha256", ""));
  EXPECT_EQ(fetched->object_size, st.value("size", uint64_t{0}));
  EXPECT_EQ(bytes, fetched->store_bytes + 32);
  const std::string metrics = metrics_.Render();
  EXPECT_NE(metrics.find("cairn_operator_backup_runs_total{cluster=\"db/etcd\",result=\"success\"} 1"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("cairn_operator_backup_last_size_bytes{cluster=\"db/etcd\"} " + std::to_string(fetched->object_size)),
            std::string::npos)
      << metrics;
}


// Disaster recovery from the bucket alone: `cairn-operator fetch-backup` verifies and
// downloads, every member of a new 3-member cluster restores the same file, and the new
// cluster has every key, value and revision, under a new cluster ID.
TEST_F(BackupControllerTest, ANewClusterRestoredFromTheBucketHasEveryKeyAndRevision) {
  CreateCluster();
  StartController();
  CreateBackup("dr", {{"clusterName", "etcd"}, {"destination", Destination()}});
  ASSERT_TRUE(Eventually([&] { return Phase("dr") == "Succeeded"; })) << Backup("dr")->dump(2);
  int64_t source_rev = 0;
  uint64_t source_cluster = 0;
  const auto source = ReadAll(member_, &source_rev, &source_cluster);
  Write(member_, 10);  // after the backup: must not be restored
  const std::string key = Backup("dr")->at("status").value("objectKey", "");
  const std::string fetch = std::string("AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER ") + CAIRN_OPERATOR_BIN +
                            " fetch-backup --endpoint=http://127.0.0.1:" + std::to_string(s3rver_->port()) +
                            " --bucket=" + kBucket + " --path-style";
  const std::string file = dir_.Join("restore.db");
  ASSERT_EQ(std::system((fetch + " --manifest=" + key + " --out=" + file).c_str()), 0);
  const int missing = std::system((fetch + " --manifest=prod/nothing.db --out=" + dir_.Join("none.db") + " 2>/dev/null").c_str());
  EXPECT_EQ(WEXITSTATUS(missing), 1);
  EXPECT_FALSE(std::filesystem::exists(dir_.Join("none.db")));
  EXPECT_FALSE(std::filesystem::exists(dir_.Join("none.db.part")));

  const int base = member_.client_port + 2;
  std::vector<testing::EtcdMember> restored;
  std::string initial;
  for (int i = 0; i < 3; ++i) {
    restored.push_back({"r" + std::to_string(i), base + 2 * i, base + 2 * i + 1});
    initial += (i ? "," : "") + restored.back().name + "=" + restored.back().PeerUrl();
  }
  std::vector<std::unique_ptr<testing::EtcdProcess>> procs;
  for (const auto& m : restored) {
    const std::string dir = dir_.Join(m.name);
    std::filesystem::create_directories(dir);
    const std::string cmd = std::string(std::getenv("CAIRN_MEMBERSHIP_SERVER")) + " snapshot restore " + file +
                            " --name=" + m.name + " --data-dir=" + dir + "/data --initial-cluster=" + initial +
                            " --initial-advertise-peer-urls=" + m.PeerUrl() +
                            " --initial-cluster-token=cairn-op-test > " + dir + "/restore.log 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    procs.push_back(std::make_unique<testing::EtcdProcess>(m, initial, "new", dir));
  }
  for (const auto& m : restored) {
    int64_t rev = 0;
    uint64_t cluster = 0;
    EXPECT_EQ(ReadAll(m, &rev, &cluster), source) << m.name;
    EXPECT_EQ(rev, source_rev) << m.name;
    EXPECT_NE(cluster, source_cluster) << "a restored cluster is a new cluster";
  }
}

// spec.bootstrap.restore end to end: the Reconciler waits for the named EtcdBackup,
// copies its credentials, records the source in the ConfigMap and adds the init
// container; then the ConfigMap's own scripts, run for real (fetch with cairn-operator,
// restore and start with cairn), bring the backup's data back.
TEST_F(BackupControllerTest, ANewClusterBootstrapsFromANamedBackup) {
  CreateCluster();
  auto reconciler = CopyCluster({{"backupName", "src"}});
  auto pass = [&] { return reconciler->Reconcile("db", "copy"); };
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(pass().status.ok());
  EXPECT_FALSE(fake_.Object(types::StatefulSet(), "db", "copy").has_value()) << "no backup yet: no members";
  EXPECT_FALSE(fake_.Object(types::ConfigMap(), "db", naming::ConfigMap("copy")).has_value());
  StartController();
  CreateBackup("src", {{"clusterName", "etcd"}, {"destination", Destination()}});
  ASSERT_TRUE(Eventually([&] { return Phase("src") == "Succeeded"; })) << Backup("src")->dump(2);
  int64_t source_rev = 0;
  uint64_t source_cluster = 0;
  const auto source = ReadAll(member_, &source_rev, &source_cluster);
  RestoredCopy copy = BootstrapCopy(*reconciler);
  KillAtEnd kill_at_end{copy.pid};
  EXPECT_EQ(copy.data, source);
  EXPECT_EQ(copy.revision, source_rev);
  EXPECT_NE(copy.cluster, source_cluster);
  EXPECT_FALSE(std::filesystem::exists(copy.root + "/restore.db")) << "the fetched file is removed once restored";
  // The restored member's HashKV at the backup's revision is the one the backup recorded.
  MembershipClient restored_client({copy.member.ClientUrl()}, 5s);
  auto hash = restored_client.HashKV(copy.member.ClientUrl(), source_rev);
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  ASSERT_TRUE(Backup("src")->at("status").contains("hashKV"));
  EXPECT_EQ(hash->hash, Backup("src")->at("status").value("hashKV", uint32_t{0}));
}

// spec.bootstrap.restore.revision end to end: the cluster's shipper stores delta
// segments after the full backup; the new cluster's scripts, run for real, fetch the
// backup and the deltas up to the target and replay them, so the member serves exactly
// the source as it was at that revision, and nothing written after it.
TEST_F(BackupControllerTest, ANewClusterBootstrapsToARevisionFromAFullBackupAndItsDeltas) {
  CreateCluster({{"schedule", "0 0 1 1 *"}, {"deltaPeriod", "1s"}, {"destination", Destination()}});
  StartController();
  CreateBackup("src", {{"clusterName", "etcd"}, {"destination", Destination()}});
  ASSERT_TRUE(Eventually([&] { return Phase("src") == "Succeeded"; })) << Backup("src")->dump(2);
  const int64_t full = Backup("src")->at("status").value("revision", int64_t{0});
  Write(member_, 20);
  int64_t target = 0;
  uint64_t source_cluster = 0;
  const auto at_target = ReadAll(member_, &target, &source_cluster);
  ASSERT_EQ(target, full + 20);
  Write(member_, 10);  // after the target: must not come back
  ASSERT_TRUE(Eventually([&] { return LastShippedRevision() == target + 10; }));
  ExpectCopyServes({{"backupName", "src"}, {"revision", target}}, at_target, target, source_cluster);
  std::ifstream log(dir_.Join("fetch.log"));
  const std::string fetched((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(fetched.find("deltas from revision " + std::to_string(full + 1) + " to " + std::to_string(target)),
            std::string::npos) << fetched;
}

// spec.bootstrap.restore.time end to end: segments record when the shipper received each
// revision (on the controller's clock, moved on here between two batches of writes),
// and the new cluster gets every revision received by the time asked for, no later one.
TEST_F(BackupControllerTest, ANewClusterBootstrapsToATimeFromAFullBackupAndItsDeltas) {
  CreateCluster({{"schedule", "0 0 1 1 *"}, {"deltaPeriod", "1s"}, {"destination", Destination()}});
  StartController();
  CreateBackup("src", {{"clusterName", "etcd"}, {"destination", Destination()}});
  ASSERT_TRUE(Eventually([&] { return Phase("src") == "Succeeded"; })) << Backup("src")->dump(2);
  Write(member_, 20);
  int64_t target = 0;
  uint64_t source_cluster = 0;
  const auto at_target = ReadAll(member_, &target, &source_cluster);
  ASSERT_TRUE(Eventually([&] { return LastShippedRevision() == target; }));
  const std::string when = FormatTime(Clock::now() + std::chrono::seconds(30));
  clock_offset_ = 60;  // everything received from now on, a minute later
  Write(member_, 10);
  ASSERT_TRUE(Eventually([&] { return LastShippedRevision() == target + 10; }));
  ExpectCopyServes({{"backupName", "src"}, {"time", when}}, at_target, target, source_cluster);
}

// The scratch Pod, played by the test as the kubelet would run it: its init container's
// fetch-backup, then its container's script, on loopback ports. verified=true when the
// scratch member's HashKV matches the recorded one, false (and a Warning) when not.
TEST_F(BackupControllerTest, BackupsAreVerifiedByRestoringThemIntoAScratchMember) {
  CreateCluster();
  const int port = member_.client_port + 2;
  StartVerifyingController(port);
  for (const char* name : {"good", "tampered"}) {
    SCOPED_TRACE(name);
    CreateBackup(name, {{"clusterName", "etcd"}, {"destination", Destination()}});
    ASSERT_TRUE(Eventually([&] { return fake_.Object(types::Pod(), "db", std::string(name) + "-verify").has_value(); }))
        << Backup(name)->dump(2);
    ASSERT_EQ(Phase(name), "Succeeded");
    if (std::string(name) == "tampered") {
      json b = Backup(name).value();
      b["status"]["hashKV"] = b["status"].value("hashKV", uint32_t{0}) ^ 1u;
      fake_.Upsert(types::EtcdBackup(), "db", b);
    }
    const json pod = fake_.Object(types::Pod(), "db", std::string(name) + "-verify").value();
    EXPECT_EQ(pod["spec"]["containers"][0]["resources"], kResources) << "the scratch member gets what members get";
    ASSERT_NO_FATAL_FAILURE(RunVerifyPod(name, port));
    const json st = Backup(name)->at("status");
    EXPECT_EQ(st.value("verified", false), std::string(name) == "good") << st.dump(2);
    EXPECT_NE(st.value("verificationMessage", "").find("HashKV at revision"), std::string::npos) << st.dump(2);
    EXPECT_TRUE(Eventually([&] { return !fake_.Object(types::Pod(), "db", std::string(name) + "-verify"); }))
        << "the scratch Pod is deleted once it answered";
  }
}

// The planner's kCreatePreUpgradeBackup makes an EtcdBackup the BackupController runs to
// Succeeded, which is what lets the upgrade go on.
TEST_F(BackupControllerTest, TheBackupBeforeAnUpgradeIsAnEtcdBackupThatRuns) {
  CreateCluster({{"schedule", "@daily"}, {"destination", Destination()}});
  auto spec = ClusterSpec::Parse(fake_.Object(types::EtcdCluster(), "db", "etcd").value());
  ASSERT_TRUE(spec.ok());
  EXPECT_TRUE(spec->backup_before_upgrade);
  spec->version = "0.2.0";
  auto membership = EtcdMembershipFactory(1s)(*spec, {}, ClientTls{}, ClientAuth{});
  Action a;
  a.kind = ActionKind::kCreatePreUpgradeBackup;
  ASSERT_TRUE(ExecuteAction(*client_, *membership, *spec, ObservedState{}, a).ok());
  ASSERT_TRUE(ExecuteAction(*client_, *membership, *spec, ObservedState{}, a).ok()) << "idempotent";
  StartController();
  ASSERT_TRUE(Eventually([&] { return Phase("etcd-before-0-2-0") == "Succeeded"; }))
      << Backup("etcd-before-0-2-0")->dump(2);
  const json meta = Backup("etcd-before-0-2-0")->at("metadata");
  EXPECT_EQ(meta["ownerReferences"][0].value("kind", ""), "EtcdCluster");
  EXPECT_FALSE(meta["labels"].contains(kLabelScheduled)) << "never expired by the schedule's retention";
}

TEST_F(BackupControllerTest, FailuresAreRecordedWithTheirReasonAndNothingIsStored) {
  CreateCluster();
  StartController();
  CreateBackup("wrong-key", {{"clusterName", "etcd"}, {"destination", Destination("wrong-creds")}});
  CreateBackup("no-secret", {{"clusterName", "etcd"}, {"destination", Destination("missing")}});
  CreateBackup("no-cluster", {{"clusterName", "nope"}, {"destination", Destination()}});
  CreateBackup("no-destination", {{"clusterName", "etcd"}});
  for (const char* name : {"wrong-key", "no-secret", "no-cluster", "no-destination"}) {
    ASSERT_TRUE(Eventually([&] { return Phase(name) == "Failed"; })) << Backup(name)->dump(2);
  }
  auto message = [&](const char* name) { return Backup(name)->at("status").value("message", ""); };
  auto reason = [&](const char* name) { return Backup(name)->at("status").value("reason", ""); };
  EXPECT_EQ(reason("wrong-key"), "BackupFailed");
  EXPECT_NE(message("wrong-key").find("InvalidAccessKeyId"), std::string::npos) << message("wrong-key");
  EXPECT_NE(message("no-secret").find("Secret missing"), std::string::npos) << message("no-secret");
  EXPECT_EQ(reason("no-cluster"), "ClusterNotFound");
  EXPECT_EQ(reason("no-destination"), "NoDestination");
  auto keys = Store()->List("");
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->empty());
  EXPECT_NE(metrics_.Render().find("cairn_operator_backup_runs_total{cluster=\"db/etcd\",result=\"failure\"} 2"),
            std::string::npos);
}

// After an operator restart a Running backup has no runner: it must end Failed, never Succeeded.
TEST_F(BackupControllerTest, ABackupLeftRunningByARestartIsMarkedInterrupted) {
  CreateCluster();
  CreateBackup("cut-off", {{"clusterName", "etcd"}, {"destination", Destination()}});
  json b = Backup("cut-off").value();
  b["status"] = {{"phase", "Running"}, {"startTime", "2026-12-07T08:00:00Z"}};
  fake_.Upsert(types::EtcdBackup(), "db", b);
  StartController();
  ASSERT_TRUE(Eventually([&] { return Phase("cut-off") == "Failed"; })) << Backup("cut-off")->dump(2);
  EXPECT_EQ(Backup("cut-off")->at("status").value("reason", ""), "Interrupted");
  EXPECT_EQ(Backup("cut-off")->at("status").value("startTime", ""), "2026-12-07T08:00:00Z");
}

// While one backup of a cluster runs (here: stuck on a member that hangs), another waits
// as Pending, and runs once the first has ended.
TEST_F(BackupControllerTest, BackupsOfOneClusterRunOneAtATime) {
  CreateCluster();
  CreateBackup("a", {{"clusterName", "etcd"}, {"destination", Destination()}});
  CreateBackup("b", {{"clusterName", "etcd"}, {"destination", Destination()}});
  controller_ = std::make_unique<BackupController>(*client_, Options());
  proc_->Signal(SIGSTOP);
  ASSERT_TRUE(controller_->ReconcileBackup("db", "a").ok());
  EXPECT_EQ(Phase("a"), "Running");
  Status second = controller_->ReconcileBackup("db", "b");
  EXPECT_EQ(second.code(), StatusCode::kUnavailable) << second.ToString();
  EXPECT_NE(second.message().find("db/a"), std::string::npos) << second.ToString();
  EXPECT_EQ(Phase("b"), "");
  EXPECT_FALSE(controller_->Idle());
  ASSERT_TRUE(Eventually([&] { return controller_->Idle(); }, 20s));
  proc_->Signal(SIGCONT);
  EXPECT_EQ(Phase("a"), "Failed") << Backup("a")->dump(2);
  ASSERT_TRUE(controller_->ReconcileBackup("db", "b").ok());
  ASSERT_TRUE(Eventually([&] { return controller_->Idle(); }));
  EXPECT_EQ(Phase("b"), "Succeeded") << Backup("b")->dump(2);
}

TEST_F(BackupControllerTest, TheScheduleCreatesBackupsAndRetentionExpiresThemWithTheirObjects) {
  CreateCluster({{"schedule", "* * * * *"}, {"retention", {{"keepLast", 2}}}, {"destination", Destination()}});
  controller_ = std::make_unique<BackupController>(*client_, Options());
  auto scheduled = [&] {
    auto list = client_->List(types::EtcdBackup(), "db", std::string(kLabelScheduled) + "=true");
    std::vector<std::string> names;
    for (const auto& item : list->items) names.push_back(item["metadata"].value("name", ""));
    std::sort(names.begin(), names.end());
    return names;
  };
  // Nothing is due before the cluster existed (a second earlier than its creation).
  clock_offset_ = -1;
  auto requeue = controller_->ReconcileSchedule("db", "etcd");
  ASSERT_TRUE(requeue.ok()) << requeue.status().ToString();
  EXPECT_LE(*requeue, 61s);
  EXPECT_TRUE(scheduled().empty());
  std::vector<std::string> keys_seen;
  for (int minute = 1; minute <= 3; ++minute) {
    clock_offset_ = 60 * minute;
    ASSERT_TRUE(controller_->ReconcileSchedule("db", "etcd").ok());
    ASSERT_TRUE(controller_->ReconcileSchedule("db", "etcd").ok()) << "a second pass is a no-op";
    auto names = scheduled();
    ASSERT_EQ(names.size(), static_cast<size_t>(minute));
    const std::string latest = names.back();
    EXPECT_EQ(latest.rfind("etcd-", 0), 0u);
    EXPECT_EQ(Backup(latest)->at("metadata")["ownerReferences"][0].value("kind", ""), "EtcdCluster");
    ASSERT_TRUE(controller_->ReconcileBackup("db", latest).ok());
    ASSERT_TRUE(Eventually([&] { return controller_->Idle(); }));
    ASSERT_EQ(Phase(latest), "Succeeded") << Backup(latest)->dump(2);
    keys_seen.push_back(Backup(latest)->at("status").value("objectKey", ""));
  }
  // Three good backups, keepLast 2: the oldest goes, manifest and object first.
  ASSERT_TRUE(controller_->ReconcileSchedule("db", "etcd").ok());
  EXPECT_EQ(scheduled().size(), 2u);
  auto keys = Store()->List("prod/db/etcd/");
  ASSERT_TRUE(keys.ok());
  std::vector<std::string> want = {keys_seen[1], backup::ManifestName(keys_seen[1]), keys_seen[2],
                                   backup::ManifestName(keys_seen[2])};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(*keys, want);
  // Two runs in one second at one revision share an object: expiring one record leaves
  // the object the other still names.
  {
    json shared = *Backup(scheduled()[1]);
    shared["status"]["objectKey"] = keys_seen[1];
    ASSERT_TRUE(client_->UpdateStatus(types::EtcdBackup(), "db", shared).ok());
    clock_offset_ = 60 * 4;
    ASSERT_TRUE(controller_->ReconcileSchedule("db", "etcd").ok());
    const std::string latest = scheduled().back();
    ASSERT_TRUE(controller_->ReconcileBackup("db", latest).ok());
    ASSERT_TRUE(Eventually([&] { return controller_->Idle(); }));
    ASSERT_EQ(Phase(latest), "Succeeded");
    const std::string newest_key = Backup(latest)->at("status").value("objectKey", "");
    ASSERT_TRUE(controller_->ReconcileSchedule("db", "etcd").ok());
    ASSERT_EQ(scheduled().size(), 2u);
    keys = Store()->List("prod/db/etcd/");
    ASSERT_TRUE(keys.ok());
    want = {keys_seen[1], backup::ManifestName(keys_seen[1]), keys_seen[2], backup::ManifestName(keys_seen[2]),
            newest_key, backup::ManifestName(newest_key)};
    std::sort(want.begin(), want.end());
    EXPECT_EQ(*keys, want) << "the record of minute 2 expired, but minute 3's names its object";
  }
  // An object a crashed run left without its manifest is removed; backups are not.
  auto orphan = Store()->Put("prod/db/etcd/full-20261207T000000Z-00000000000000000007.db.zst",
                             [](char*, size_t) -> Result<size_t> { return size_t{0}; });
  ASSERT_TRUE(orphan.ok());
  ASSERT_TRUE(controller_->ReconcileSchedule("db", "etcd").ok());
  keys = Store()->List("prod/db/etcd/");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(*keys, want);
  // Suspended: no new backups, however late.
  ASSERT_TRUE(client_->MergePatch(types::EtcdCluster(), "db", "etcd", {{"spec", {{"backup", {{"suspend", true}}}}}}).ok());
  clock_offset_ = 60 * 10;
  ASSERT_TRUE(controller_->ReconcileSchedule("db", "etcd").ok());
  EXPECT_EQ(scheduled().size(), 2u);
}

// Continuous backup: the controller's shipper follows the scheduled full backups with
// delta segments, starts over after the next full backup, loses its segments with the
// full backup they follow, and stops with deltaPeriod 0s.
TEST_F(BackupControllerTest, DeltaSegmentsFollowTheFullBackupsAndExpireWithThem) {
  CreateCluster({{"schedule", "* * * * *"},
                 {"deltaPeriod", "1s"},
                 {"retention", {{"keepLast", 1}}},
                 {"destination", Destination()}});
  controller_ = std::make_unique<BackupController>(*client_, Options());
  auto segments = [&] {
    std::vector<backup::DeltaSegmentKey> out;
    const auto keys = Store()->List("prod/db/etcd/");
    EXPECT_TRUE(keys.ok());
    for (const auto& k : keys.value()) {
      if (auto seg = backup::ParseDeltaSegmentName("prod/db/etcd/", k)) out.push_back(*seg);
    }
    return out;
  };
  auto full_backup = [&](int minute) {
    clock_offset_ = 60 * minute;
    EXPECT_TRUE(controller_->ReconcileSchedule("db", "etcd").ok());
    std::string name;  // the newest scheduled one: names sort by their slot
    const auto listed = client_->List(types::EtcdBackup(), "db", std::string(kLabelScheduled) + "=true");
    EXPECT_TRUE(listed.ok());
    for (const auto& item : listed->items) {
      name = std::max(name, item["metadata"].value("name", ""));
    }
    EXPECT_TRUE(controller_->ReconcileBackup("db", name).ok());
    EXPECT_TRUE(Eventually([&] { return controller_->Idle(); }));
    EXPECT_EQ(Phase(name), "Succeeded");
    return Backup(name)->at("status").value("revision", int64_t{0});
  };
  const int64_t first = full_backup(1);
  ASSERT_GT(first, 0);
  Write(member_, 50);
  ASSERT_TRUE(Eventually([&] { return !segments().empty() && segments().back().last == first + 50; }));
  int64_t next = first + 1;
  for (const auto& seg : segments()) {
    EXPECT_EQ(seg.first, next) << "no gap, no overlap";
    next = seg.last + 1;
  }

  // The next full backup: retention (keepLast 1) drops the first, and with it every
  // segment that ends at or before the one kept.
  const int64_t second = full_backup(2);
  EXPECT_EQ(second, first + 50);
  ASSERT_TRUE(controller_->ReconcileSchedule("db", "etcd").ok());
  EXPECT_TRUE(segments().empty());
  Write(member_, 10);
  ASSERT_TRUE(Eventually([&] { return !segments().empty() && segments().back().last == second + 10; }));
  EXPECT_EQ(segments().front().first, second + 1);
  const std::string gauge = "cairn_operator_backup_delta_revision{cluster=\"db/etcd\"} ";
  EXPECT_TRUE(Eventually([&] { return metrics_.Render().find(gauge + std::to_string(second + 10) + "\n") != std::string::npos; }))
      << metrics_.Render();
  EXPECT_NE(metrics_.Render().find("cairn_operator_backup_delta_synced_timestamp_seconds{cluster=\"db/etcd\"} "),
            std::string::npos);

  // deltaPeriod 0s: the shipper stops.
  ASSERT_TRUE(client_->MergePatch(types::EtcdCluster(), "db", "etcd", {{"spec", {{"backup", {{"deltaPeriod", "0s"}}}}}}).ok());
  ASSERT_TRUE(controller_->ReconcileSchedule("db", "etcd").ok());
  Write(member_, 5);
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(segments().back().last, second + 10);
  EXPECT_EQ(metrics_.Render().find(gauge), std::string::npos) << "a stopped shipper reports nothing";

  // Compacted past where the segments end: instead of a gap, the shipper asks for a full
  // backup (its own EtcdBackup, beside the schedule's), and continues after it.
  const int64_t compacted = Revision();
  {
    auto kv = etcdserverpb::KV::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(member_.client_port),
                                                            grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    etcdserverpb::CompactionRequest req;
    req.set_revision(compacted);
    etcdserverpb::CompactionResponse resp;
    ASSERT_TRUE(kv->Compact(&ctx, req, &resp).ok());
  }
  ASSERT_TRUE(client_->MergePatch(types::EtcdCluster(), "db", "etcd", {{"spec", {{"backup", {{"deltaPeriod", "1s"}}}}}}).ok());
  ASSERT_TRUE(controller_->ReconcileSchedule("db", "etcd").ok());
  std::string gap;
  ASSERT_TRUE(Eventually([&] {
    const auto listed = client_->List(types::EtcdBackup(), "db", std::string(kLabelScheduled) + "=true");
    for (const auto& item : listed->items) {
      const std::string n = item["metadata"].value("name", "");
      if (n.rfind("etcd-delta-gap-", 0) == 0) gap = n;
    }
    return !gap.empty();
  }));
  ASSERT_TRUE(controller_->ReconcileBackup("db", gap).ok());
  ASSERT_TRUE(Eventually([&] { return controller_->Idle(); }));
  ASSERT_EQ(Phase(gap), "Succeeded");
  EXPECT_EQ(Backup(gap)->at("status").value("revision", int64_t{0}), compacted);
  Write(member_, 5);
  ASSERT_TRUE(Eventually([&] { return segments().back().last == compacted + 5; }));
  EXPECT_EQ(segments().back().first, compacted + 1);
}

// Everything backups do is granted, and every EtcdBackup grant is used (the cluster
// Controller's RBAC test covers the rest of the ClusterRole).
// A pvc destination: the operator cannot mount the claim, so the backup runs in a Pod
// (here run by the test, as a kubelet would, with the real binary against the real
// member), whose termination message the controller records as it records an S3 run.
TEST_F(BackupControllerTest, ABackupToAClaimRunsInAPodAndIsRecordedLikeOneToS3) {
  CreateCluster();
  controller_ = std::make_unique<BackupController>(*client_, PodOptions());
  run_ = std::jthread([this](std::stop_token st) { controller_->Run(st); });
  CreateBackup("vol", {{"clusterName", "etcd"}, {"destination", Claim()}});
  ASSERT_TRUE(Eventually([&] { return fake_.Object(types::Pod(), "db", "vol-backup").has_value(); }))
      << Backup("vol")->dump(2);
  EXPECT_EQ(Phase("vol"), "Running");
  const json pod = fake_.Object(types::Pod(), "db", "vol-backup").value();
  const json spec = pod["spec"];
  EXPECT_EQ(spec["volumes"][0]["persistentVolumeClaim"], json({{"claimName", "backups"}, {"readOnly", false}}));
  EXPECT_EQ(spec.value("restartPolicy", ""), "Never");
  EXPECT_TRUE(spec["securityContext"].value("runAsNonRoot", false));
  EXPECT_EQ(spec["securityContext"].value("fsGroup", 0), 65532);
  EXPECT_EQ(spec["containers"][0].value("image", ""), "cairn-operator:test");
  EXPECT_EQ(pod["metadata"]["ownerReferences"][0].value("kind", ""), "EtcdBackup");
  const json args = spec["containers"][0]["args"];
  for (const std::string& want :
       std::vector<std::string>{"backup-to-dir", "--prefix=team/db/etcd/", "--endpoints=" + member_.ClientUrl()}) {
    EXPECT_NE(std::find(args.begin(), args.end(), want), args.end()) << want << " in " << args.dump();
  }
  EXPECT_EQ(controller_->ReconcileBackup("db", "vol").code(), StatusCode::kUnavailable) << "the run is the Pod";

  const std::string volume = dir_.Join("volume");
  const std::string orphan = volume + "/team/db/etcd/full-20261207T000000Z-00000000000000000007.db.zst";
  std::filesystem::create_directories(volume + "/team/db/etcd");
  std::ofstream(orphan) << "a run cut off before its manifest";
  ASSERT_EQ(RunBackupPod("vol", volume), 0);
  ASSERT_TRUE(Eventually([&] { return Phase("vol") == "Succeeded"; })) << Backup("vol")->dump(2);
  const json st = Backup("vol")->at("status");
  const std::string key = st.value("objectKey", "");
  EXPECT_EQ(key.rfind("team/db/etcd/full-", 0), 0u) << key;
  EXPECT_EQ(st.value("objectURL", ""), "pvc://backups/" + key);
  EXPECT_EQ(st.value("revision", 0), Revision());
  EXPECT_EQ(st.value("size", uint64_t{0}), std::filesystem::file_size(volume + "/" + key));
  EXPECT_EQ(st.value("sha256", "").size(), 64u);
  EXPECT_TRUE(st.contains("hashKV"));
  EXPECT_FALSE(std::filesystem::exists(orphan)) << "the Pod removes what an interrupted run left";
  EXPECT_TRUE(Eventually([&] { return !fake_.Object(types::Pod(), "db", "vol-backup"); })) << "the Pod is deleted";
  const std::string metrics = metrics_.Render();
  EXPECT_NE(metrics.find("cairn_operator_backup_runs_total{cluster=\"db/etcd\",result=\"success\"} 1"), std::string::npos)
      << metrics;

  // It restores: fetch-backup reads the directory and checks every byte.
  const std::string fetch = std::string(CAIRN_OPERATOR_BIN) + " fetch-backup --dir=" + volume + " --manifest=" + key +
                            " --out=" + dir_.Join("vol.db");
  EXPECT_EQ(std::system(fetch.c_str()), 0) << fetch;
  // Verification fetches from the claim, mounted read-only.
  ASSERT_TRUE(Eventually([&] { return fake_.Object(types::Pod(), "db", "vol-verify").has_value(); }));
  const json verify = fake_.Object(types::Pod(), "db", "vol-verify").value()["spec"];
  EXPECT_EQ(verify["volumes"][1]["persistentVolumeClaim"], json({{"claimName", "backups"}, {"readOnly", true}}));
  const json fetch_args = verify["initContainers"][0]["args"];
  EXPECT_NE(std::find(fetch_args.begin(), fetch_args.end(), "--dir=/backup"), fetch_args.end()) << fetch_args.dump();
  EXPECT_TRUE(verify["initContainers"][0]["env"].empty()) << "no S3 credentials for a claim";
}

// A backup Pod that cannot start (unschedulable, its ReadWriteOnce claim held on another
// node) fails the backup after backup_pod_start_timeout, with the scheduler's reason,
// also across an operator restart; one the API server refuses fails it at once; one
// whose run fails reports the run's error.
// With etcd auth on, Snapshot needs the root role: backups to S3 and the backup Pod of a
// claim authenticate as spec.auth's user, whose password reaches the Pod only through a
// Secret reference; a wrong password fails the backup with etcd's reason.
TEST_F(BackupControllerTest, BackupsOfAClusterWithAuthOnAuthenticateAsTheCredentialsUser) {
  fake_.Upsert(types::EtcdCluster(), "db",
               {{"metadata", {{"name", "etcd"}, {"namespace", "db"}, {"creationTimestamp", FormatTime(Clock::now())}}},
                {"spec", {{"replicas", 1}, {"auth", {{"credentialsSecret", "etcd-root"}}}}}});
  auto credentials = [&](const std::string& password) {
    fake_.Upsert(types::Secret(), "db",
                 {{"metadata", {{"name", "etcd-root"}, {"namespace", "db"}}}, {"data", {{"password", Base64Encode(password)}}}});
  };
  credentials("r00t-pw");
  const int64_t revision = Revision();
  ASSERT_EQ(testing::EnableEtcdAuth(member_.client_port, "r00t-pw"), "");
  controller_ = std::make_unique<BackupController>(*client_, PodOptions());
  run_ = std::jthread([this](std::stop_token st) { controller_->Run(st); });

  CreateBackup("s3", {{"clusterName", "etcd"}, {"destination", Destination()}});
  ASSERT_TRUE(Eventually([&] { return Phase("s3") == "Succeeded"; })) << Backup("s3")->dump(2);
  EXPECT_EQ(Backup("s3")->at("status").value("revision", 0), revision) << "auth changes are not key revisions";

  CreateBackup("vol", {{"clusterName", "etcd"}, {"destination", Claim()}});
  ASSERT_TRUE(Eventually([&] { return fake_.Object(types::Pod(), "db", "vol-backup").has_value(); }))
      << Backup("vol")->dump(2);
  const json pod = fake_.Object(types::Pod(), "db", "vol-backup").value();
  EXPECT_EQ(pod.dump().find("r00t-pw"), std::string::npos) << "the password stays in its Secret";
  EXPECT_EQ(pod["spec"]["containers"][0]["env"][1]["valueFrom"]["secretKeyRef"],
            json({{"name", "etcd-root"}, {"key", "password"}, {"optional", false}}));
  const std::string volume = dir_.Join("volume");
  std::filesystem::create_directories(volume);
  ASSERT_EQ(RunBackupPod("vol", volume), 0);
  ASSERT_TRUE(Eventually([&] { return Phase("vol") == "Succeeded"; })) << Backup("vol")->dump(2);

  credentials("not-it");
  CreateBackup("denied", {{"clusterName", "etcd"}, {"destination", Destination()}});
  ASSERT_TRUE(Eventually([&] { return Phase("denied") == "Failed"; })) << Backup("denied")->dump(2);
  EXPECT_NE(Backup("denied")->at("status").value("message", "").find("authentication failed"), std::string::npos)
      << Backup("denied")->dump(2);
}

// A snapshot keeps the auth store, so the scratch member of a cluster with auth on has
// auth on too: HashKV there needs spec.auth's user.
TEST_F(BackupControllerTest, ABackupOfAClusterWithAuthOnIsVerifiedAsTheCredentialsUser) {
  fake_.Upsert(types::EtcdCluster(), "db",
               {{"metadata", {{"name", "etcd"}, {"namespace", "db"}, {"creationTimestamp", FormatTime(Clock::now())}}},
                {"spec", {{"replicas", 1}, {"auth", {{"credentialsSecret", "etcd-root"}}}}}});
  fake_.Upsert(types::Secret(), "db",
               {{"metadata", {{"name", "etcd-root"}, {"namespace", "db"}}}, {"data", {{"password", Base64Encode("r00t-pw")}}}});
  ASSERT_EQ(testing::EnableEtcdAuth(member_.client_port, "r00t-pw"), "");
  const int port = member_.client_port + 2;
  StartVerifyingController(port);
  CreateBackup("guarded", {{"clusterName", "etcd"}, {"destination", Destination()}});
  ASSERT_TRUE(Eventually([&] { return fake_.Object(types::Pod(), "db", "guarded-verify").has_value(); }))
      << Backup("guarded")->dump(2);
  ASSERT_EQ(Phase("guarded"), "Succeeded");
  ASSERT_NO_FATAL_FAILURE(RunVerifyPod("guarded", port));
  const json st = Backup("guarded")->at("status");
  EXPECT_TRUE(st.value("verified", false)) << st.dump(2);
}

TEST_F(BackupControllerTest, ABackupPodThatNeverStartsOrFailsFailsTheBackupWithWhy) {
  CreateCluster();
  controller_ = std::make_unique<BackupController>(*client_, PodOptions());
  CreateBackup("stuck", {{"clusterName", "etcd"}, {"destination", Claim()}});
  EXPECT_EQ(controller_->ReconcileBackup("db", "stuck").code(), StatusCode::kUnavailable);
  json pod = fake_.Object(types::Pod(), "db", "stuck-backup").value();
  pod["status"] = {{"phase", "Pending"},
                   {"conditions",
                    {{{"type", "PodScheduled"},
                      {"status", "False"},
                      {"reason", "Unschedulable"},
                      {"message", "0/3 nodes are available: 3 node(s) had volume node affinity conflict."}}}}};
  fake_.Upsert(types::Pod(), "db", pod);
  EXPECT_EQ(controller_->ReconcileBackup("db", "stuck").code(), StatusCode::kUnavailable) << "still in time";
  // A restarted operator with a shorter patience (the Pod is dated 2026-01-01).
  BackupControllerOptions impatient = PodOptions();
  impatient.backup_pod_start_timeout = std::chrono::seconds(600);
  controller_ = std::make_unique<BackupController>(*client_, impatient);
  ASSERT_TRUE(controller_->ReconcileBackup("db", "stuck").ok());
  json st = Backup("stuck")->at("status");
  EXPECT_EQ(st.value("phase", ""), "Failed");
  EXPECT_EQ(st.value("reason", ""), "BackupPodNotStarted");
  EXPECT_NE(st.value("message", "").find("volume node affinity conflict"), std::string::npos) << st.dump(2);
  EXPECT_FALSE(fake_.Object(types::Pod(), "db", "stuck-backup").has_value());

  controller_ = std::make_unique<BackupController>(*client_, PodOptions());
  // A Pod the API server refuses for good (PodSecurity admission) fails the backup at once.
  CreateBackup("forbidden", {{"clusterName", "etcd"}, {"destination", Claim()}});
  fake_.InjectError("POST /api/v1/namespaces/db/pods", 403, "Forbidden");
  ASSERT_TRUE(controller_->ReconcileBackup("db", "forbidden").ok());
  st = Backup("forbidden")->at("status");
  EXPECT_EQ(st.value("phase", ""), "Failed");
  EXPECT_EQ(st.value("reason", ""), "BackupPodRefused") << st.dump(2);
  CreateBackup("down", {{"clusterName", "etcd"}, {"destination", Claim()}});
  EXPECT_EQ(controller_->ReconcileBackup("db", "down").code(), StatusCode::kUnavailable);
  proc_.reset();  // the member is gone when the Pod runs
  const std::string volume = dir_.Join("volume");
  std::filesystem::create_directories(volume);
  EXPECT_EQ(RunBackupPod("down", volume), 1);
  ASSERT_TRUE(controller_->ReconcileBackup("db", "down").ok());
  st = Backup("down")->at("status");
  EXPECT_EQ(st.value("phase", ""), "Failed");
  EXPECT_EQ(st.value("reason", ""), "BackupPodFailed");
  EXPECT_NE(st.value("message", "").find("exit code 1"), std::string::npos) << st.dump(2);
  EXPECT_NE(st.value("message", "").find("error"), std::string::npos) << st.dump(2);
  EXPECT_FALSE(st.contains("objectKey"));
  EXPECT_FALSE(fake_.Object(types::Pod(), "db", "down-backup").has_value());
}

// Retention on a claim happens in the backup Pods: each is told which full backups the
// schedule lets go (the newest good one never), deletes them once its own is stored, and
// the controller then deletes their EtcdBackups. Deltas are not shipped to a claim.
TEST_F(BackupControllerTest, ScheduledBackupsToAClaimExpireInTheNextBackupPod) {
  CreateCluster({{"schedule", "* * * * *"}, {"retention", {{"keepLast", 1}}}, {"verify", false}, {"destination", Claim()}});
  controller_ = std::make_unique<BackupController>(*client_, PodOptions());
  const std::string volume = dir_.Join("volume");
  std::filesystem::create_directories(volume);
  std::vector<std::string> names, keys;
  for (int minute = 1; minute <= 3; ++minute) {
    clock_offset_ = 60 * minute;
    Write(member_, 1);  // a new revision: object names carry it (and the Pod's own clock's second)
    ASSERT_TRUE(controller_->ReconcileSchedule("db", "etcd").ok());
    auto list = client_->List(types::EtcdBackup(), "db", std::string(kLabelScheduled) + "=true");
    std::string latest;
    for (const auto& item : list->items) latest = std::max(latest, item["metadata"].value("name", ""));
    names.push_back(latest);
    EXPECT_EQ(controller_->ReconcileBackup("db", latest).code(), StatusCode::kUnavailable);
    const json args = fake_.Object(types::Pod(), "db", latest + "-backup").value()["spec"]["containers"][0]["args"];
    const bool expires_first = std::find(args.begin(), args.end(), "--expire=" + (keys.empty() ? "" : keys[0])) != args.end();
    EXPECT_EQ(expires_first, minute == 3) << "minute " << minute << ": " << args.dump();
    ASSERT_EQ(RunBackupPod(latest, volume), 0);
    ASSERT_TRUE(controller_->ReconcileBackup("db", latest).ok());
    ASSERT_EQ(Phase(latest), "Succeeded") << Backup(latest)->dump(2);
    keys.push_back(Backup(latest)->at("status").value("objectKey", ""));
  }
  EXPECT_FALSE(Backup(names[0]).has_value()) << "expired with its objects";
  EXPECT_FALSE(std::filesystem::exists(volume + "/" + keys[0]));
  EXPECT_FALSE(std::filesystem::exists(volume + "/" + backup::ManifestName(keys[0])));
  for (int i : {1, 2}) {
    EXPECT_TRUE(Backup(names[i]).has_value());
    EXPECT_TRUE(std::filesystem::exists(volume + "/" + backup::ManifestName(keys[i])));
  }
}

// spec.bootstrap.restore from a backup on a claim: the members' init container mounts
// the claim read-only and fetches from it; no S3 credentials are involved.
TEST_F(BackupControllerTest, ANewClusterBootstrapsFromABackupOnAClaim) {
  CreateCluster();
  controller_ = std::make_unique<BackupController>(*client_, PodOptions());
  CreateBackup("src", {{"clusterName", "etcd"}, {"destination", Claim()}, {"verify", false}});
  EXPECT_EQ(controller_->ReconcileBackup("db", "src").code(), StatusCode::kUnavailable);
  const std::string volume = dir_.Join("volume");
  std::filesystem::create_directories(volume);
  ASSERT_EQ(RunBackupPod("src", volume), 0);
  ASSERT_TRUE(controller_->ReconcileBackup("db", "src").ok());
  ASSERT_EQ(Phase("src"), "Succeeded");
  int64_t source_rev = 0;
  uint64_t source_cluster = 0;
  const auto source = ReadAll(member_, &source_rev, &source_cluster);
  auto reconciler = CopyCluster({{"backupName", "src"}});
  RestoredCopy copy = BootstrapCopy(*reconciler, volume);
  KillAtEnd kill_copy{copy.pid};
  const json pod = fake_.Object(types::StatefulSet(), "db", "copy").value()["spec"]["template"]["spec"];
  bool mounted = false;
  for (const auto& v : pod["volumes"]) {
    mounted |= v.value("name", "") == "backup" &&
               v["persistentVolumeClaim"] == json({{"claimName", "backups"}, {"readOnly", true}});
  }
  EXPECT_TRUE(mounted) << pod["volumes"].dump();
  EXPECT_EQ(copy.data, source);
  EXPECT_EQ(copy.revision, source_rev);
  EXPECT_NE(copy.cluster, source_cluster);
}

// backup-to-dir deletes only full backups of its own cluster, and refuses bad flags
// before it touches the directory.
TEST_F(BackupControllerTest, BackupToDirRefusesFlagsThatWouldReachOutsideItsPrefix) {
  const std::string volume = dir_.Join("volume");
  std::filesystem::create_directories(volume);
  const std::string base = std::string(CAIRN_OPERATOR_BIN) + " backup-to-dir --result-file=" + dir_.Join("r") +
                           " --endpoints=" + member_.ClientUrl();
  for (const std::string& flags :
       {" --dir=" + volume + " --prefix=team/db/etcd/ --expire=team/db/other/full-20261207T000000Z-00000000000000000007.db",
        " --dir=" + volume + " --prefix=team/db/etcd/ --expire=team/db/etcd/notes.txt",
        " --dir=" + volume + " --prefix=team/db/etcd",
        " --dir=" + dir_.Join("missing") + " --prefix=team/db/etcd/",
        " --dir=" + volume + " --prefix=team/db/etcd/ --compression=lz4"}) {
    const int rc = std::system((base + flags + " 2>/dev/null").c_str());
    EXPECT_EQ(WEXITSTATUS(rc), 2) << flags;
  }
  EXPECT_TRUE(std::filesystem::is_empty(volume));
}

TEST_F(BackupControllerTest, TheClusterRoleGrantsWhatBackupsDo) {
  CreateCluster({{"schedule", "* * * * *"}, {"retention", {{"keepLast", 1}}}, {"destination", Destination()}});
  EventRecorder events(*client_, EventRecorderOptions{});
  BackupControllerOptions o = Options();
  o.events = &events;
  // Verification Pods are created, and (no kubelet here; the fake API server dates every
  // object 2026-01-01) at once given up on and deleted.
  o.operator_image = "cairn-operator:test";
  controller_ = std::make_unique<BackupController>(*client_, o);
  run_ = std::jthread([this](std::stop_token st) { controller_->Run(st); });
  for (int minute = 1; minute <= 2; ++minute) {
    clock_offset_ = 60 * minute;
    ASSERT_TRUE(controller_->ReconcileSchedule("db", "etcd").ok());
    ASSERT_TRUE(Eventually([&] {
      auto list = client_->List(types::EtcdBackup(), "db", "");
      return !list->items.empty() && std::all_of(list->items.begin(), list->items.end(), [](const json& b) {
        const json st = b.value("status", json::object());
        return st.value("phase", "") == "Succeeded" && st.contains("verified");
      });
    }));
  }
  ASSERT_TRUE(controller_->ReconcileSchedule("db", "etcd").ok());  // expires the first
  auto granted = testing::GrantedByClusterRole(CAIRN_SOURCE_DIR "/deploy/operator/cluster_role.yaml");
  std::set<testing::FakeApiServer::RbacUse> used;
  for (const auto& u : fake_.RbacUses()) {
    if (u.resource == "etcdclusters" && u.verb == "create") continue;  // the test's own
    used.insert(u);
  }
  for (const auto& u : used) {
    EXPECT_TRUE(granted.count(u)) << "backups " << u.verb << " " << u.resource << " but the ClusterRole does not allow it";
  }
  for (const auto& g : granted) {
    const bool verification = g.resource == "pods" && (g.verb == "create" || g.verb == "get" || g.verb == "delete");
    if (g.resource.rfind("etcdbackups", 0) != 0 && !verification) continue;
    EXPECT_TRUE(used.count(g)) << "the ClusterRole grants " << g.verb << " on " << g.resource << ", never used";
  }
}

}  // namespace
}  // namespace cairn::op
