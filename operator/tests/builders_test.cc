// Builders: the generated objects carry what the API server and the planner rely on
// (owner references, selectors, headless peer DNS, Parallel pods, PVC policy, PDB), and
// the member start script behaves as the planner assumes (run for real with /bin/sh).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "operator/api/naming.h"
#include "operator/resources/backup_pod.h"
#include "operator/resources/verify_pod.h"
#include "operator/resources/builders.h"

namespace cairn::op {
namespace {

ClusterSpec Spec(nlohmann::json spec = nlohmann::json::object()) {
  auto r = ClusterSpec::Parse({{"metadata", {{"name", "c"}, {"namespace", "ns"}, {"uid", "uid-1234-5678"}, {"generation", 2}}},
                               {"spec", spec}});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return *r;
}

void ExpectOwned(const nlohmann::json& obj) {
  const auto& ref = obj["metadata"]["ownerReferences"].at(0);
  EXPECT_EQ(ref["kind"], "EtcdCluster");
  EXPECT_EQ(ref["apiVersion"], "etcd.cairn.dev/v1alpha1");
  EXPECT_EQ(ref["uid"], "uid-1234-5678");
  EXPECT_EQ(ref["controller"], true);
  EXPECT_EQ(ref["blockOwnerDeletion"], true);
  EXPECT_EQ(obj["metadata"]["namespace"], "ns");
}

TEST(Builders, PeerServiceIsHeadlessAndPublishesNotReady) {
  auto s = resources::PeerService(Spec());
  ExpectOwned(s);
  EXPECT_EQ(s["metadata"]["name"], "c-peer");
  EXPECT_EQ(s["spec"]["clusterIP"], "None");
  EXPECT_EQ(s["spec"]["publishNotReadyAddresses"], true);
  EXPECT_EQ(s["spec"]["selector"][naming::kLabelInstance], "c");
  EXPECT_EQ(s["metadata"]["annotations"][naming::kAnnotationSpecHash].get<std::string>().size(), 16u);
}

TEST(Builders, StatefulSetShape) {
  auto spec = Spec({{"replicas", 3},
                    {"options", {"--snapshot-count=5000"}},
                    {"storage", {{"storageClassName", "fast"}, {"size", "5Gi"}, {"reclaimPolicy", "Retain"}}},
                    {"podTemplate",
                     {{"labels", {{"team", "db"}, {naming::kLabelInstance, "hijack"}}},
                      {"nodeSelector", {{"disk", "ssd"}}},
                      {"priorityClassName", "high"},
                      {"tolerations", {{{"key", "k"}, {"operator", "Exists"}}}}}}});
  auto s = resources::StatefulSet(spec, 4);
  ExpectOwned(s);
  EXPECT_EQ(s["spec"]["replicas"], 4);
  EXPECT_EQ(s["spec"]["serviceName"], "c-peer");
  EXPECT_EQ(s["spec"]["podManagementPolicy"], "Parallel");
  EXPECT_EQ(s["spec"]["selector"]["matchLabels"], resources::Labels(spec));
  const auto& tmpl = s["spec"]["template"];
  EXPECT_EQ(tmpl["metadata"]["labels"]["team"], "db");
  EXPECT_EQ(tmpl["metadata"]["labels"][naming::kLabelInstance], "c") << "overrides must not break the selector";
  EXPECT_EQ(tmpl["spec"]["nodeSelector"]["disk"], "ssd");
  EXPECT_EQ(tmpl["spec"]["priorityClassName"], "high");
  EXPECT_EQ(tmpl["spec"]["tolerations"][0]["key"], "k");
  const auto& c = tmpl["spec"]["containers"][0];
  EXPECT_EQ(c["image"], "cairn:0.1.0");
  EXPECT_EQ(c["args"].back(), "--snapshot-count=5000");
  // The operator replaces pods itself; the template says which version each pod runs.
  EXPECT_EQ(s["spec"]["updateStrategy"], nlohmann::json({{"type", "OnDelete"}}));
  EXPECT_EQ(tmpl["metadata"]["labels"][naming::kLabelVersion], "0.1.0");
  EXPECT_FALSE(s["spec"]["selector"]["matchLabels"].contains(naming::kLabelVersion)) << "the selector must not change with the version";
  // Ready only when the member can serve; alive as long as it answers a local read.
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"], "/readyz");
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["port"], "metrics");
  EXPECT_EQ(c["ports"][2], nlohmann::json({{"name", "metrics"}, {"containerPort", 2381}}));
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"], "/livez");
  EXPECT_EQ(c["startupProbe"]["httpGet"]["path"], "/livez");
  EXPECT_GE(c["startupProbe"]["periodSeconds"].get<int>() * c["startupProbe"]["failureThreshold"].get<int>(), 600);
  const auto& pvc = s["spec"]["volumeClaimTemplates"][0];
  EXPECT_EQ(pvc["metadata"]["name"], "data");
  EXPECT_EQ(pvc["spec"]["storageClassName"], "fast");
  EXPECT_EQ(pvc["spec"]["resources"]["requests"]["storage"], "5Gi");
  EXPECT_EQ(s["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"], "Retain");
  EXPECT_EQ(s["spec"]["persistentVolumeClaimRetentionPolicy"]["whenScaled"], "Retain");
}

TEST(Builders, StatefulSetHashIgnoresReplicasButNotTemplate) {
  auto spec = Spec();
  auto a = resources::StatefulSet(spec, 3);
  auto b = resources::StatefulSet(spec, 5);
  EXPECT_EQ(a["metadata"]["annotations"][naming::kAnnotationSpecHash], b["metadata"]["annotations"][naming::kAnnotationSpecHash]);
  spec.image = "cairn:0.2.0";
  auto c = resources::StatefulSet(spec, 3);
  EXPECT_NE(a["metadata"]["annotations"][naming::kAnnotationSpecHash], c["metadata"]["annotations"][naming::kAnnotationSpecHash]);
}

TEST(Builders, EmptyDirStorageHasNoClaims) {
  auto s = resources::StatefulSet(Spec({{"storage", {{"emptyDir", {{"medium", "Memory"}}}}}}), 1);
  EXPECT_FALSE(s["spec"].contains("volumeClaimTemplates"));
  EXPECT_FALSE(s["spec"].contains("persistentVolumeClaimRetentionPolicy"));
  bool found = false;
  for (auto& v : s["spec"]["template"]["spec"]["volumes"]) {
    if (v["name"] == "data") found = v["emptyDir"]["medium"] == "Memory";
  }
  EXPECT_TRUE(found);
}

TEST(Builders, PdbAndConfigMap) {
  auto spec = Spec();
  auto p = resources::PodDisruptionBudget(spec, 2);
  ExpectOwned(p);
  EXPECT_EQ(p["apiVersion"], "policy/v1");
  EXPECT_EQ(p["spec"]["minAvailable"], 2);
  auto cm = resources::ConfigMap(spec, {{"c-0", {"c-0=http://x:2380", "new", ""}}, {"c-1", {"ic", "existing", "00000000000000ab"}}});
  ExpectOwned(cm);
  EXPECT_EQ(cm["metadata"]["name"], "c-bootstrap");
  EXPECT_EQ(cm["data"]["token"], "c-uid-1234");
  EXPECT_EQ(cm["data"]["c-0.initial-cluster"], "c-0=http://x:2380");
  EXPECT_EQ(cm["data"]["c-0.initial-cluster-state"], "new");
  EXPECT_FALSE(cm["data"].contains("c-0.member-id"));
  EXPECT_EQ(cm["data"]["c-1.member-id"], "00000000000000ab");
}

TEST(Builders, TlsMountsTheCertificateSecretsAndPassesTheirFilesToTheMember) {
  auto spec = Spec({{"tls", {{"client", {{"auto", nlohmann::json::object()}}}, {"peer", {{"auto", nlohmann::json::object()}}}}}});
  auto s = resources::StatefulSet(spec, 3);
  const auto& pod = s["spec"]["template"]["spec"];
  const auto& c = pod["containers"][0];
  std::set<std::string> args;
  for (const auto& a : c["args"]) args.insert(a.get<std::string>());
  for (const char* want : {"--cert-file=/etc/cairn/tls/server/tls.crt", "--key-file=/etc/cairn/tls/server/tls.key",
                           "--trusted-ca-file=/etc/cairn/tls/server/ca.crt", "--client-cert-auth",
                           "--peer-cert-file=/etc/cairn/tls/peer/tls.crt", "--peer-key-file=/etc/cairn/tls/peer/tls.key",
                           "--peer-trusted-ca-file=/etc/cairn/tls/peer/ca.crt", "--peer-client-cert-auth",
                           "--experimental-peer-skip-client-san-verification"}) {
    EXPECT_TRUE(args.count(want)) << want;
  }
  std::map<std::string, std::string> env;
  for (const auto& e : c["env"]) env[e["name"]] = e.value("value", "");
  EXPECT_EQ(env[resources::kEnvClientScheme], "https");
  EXPECT_EQ(env[resources::kEnvPeerScheme], "https");
  std::map<std::string, std::string> secrets;
  for (const auto& v : pod["volumes"]) {
    if (v.contains("secret")) secrets[v["name"]] = v["secret"]["secretName"];
  }
  EXPECT_EQ(secrets, (std::map<std::string, std::string>{{"tls-peer", "c-peer-tls"}, {"tls-server", "c-server-tls"}}));
  // Without client certificate authentication, and without TLS at all.
  spec.tls.client.client_cert_auth = false;
  const auto without_auth = resources::StatefulSet(spec, 3);
  const auto& without_args = without_auth["spec"]["template"]["spec"]["containers"][0]["args"];
  EXPECT_TRUE(std::find(without_args.begin(), without_args.end(), "--peer-client-cert-auth") != without_args.end());
  EXPECT_TRUE(std::find(without_args.begin(), without_args.end(), "--client-cert-auth") == without_args.end());
  const auto plain = resources::StatefulSet(Spec(), 3)["spec"]["template"]["spec"];
  for (const auto& v : plain["volumes"]) EXPECT_FALSE(v.contains("secret"));
}

TEST(Builders, ADualPeerTemplateListensOnBothEndpointsWithThePeerCertificate) {
  // Turning peer TLS off: the spec no longer names a peer Secret; the template keeps
  // the live one (and its SAN check setting) while a TLS endpoint remains.
  const PeerListeners dual{{true, naming::kPeerPort}, PeerEndpoint{false, naming::kPeerPortAlternate}, "user-peer", true};
  auto s = resources::StatefulSet(Spec(), 3, dual);
  const auto& pod = s["spec"]["template"]["spec"];
  const auto& c = pod["containers"][0];
  std::map<std::string, std::string> env;
  for (const auto& e : c["env"]) env[e["name"]] = e.value("value", "");
  EXPECT_EQ(env[resources::kEnvPeerScheme], "https");
  EXPECT_EQ(env[resources::kEnvPeerPort], "2380");
  EXPECT_EQ(env[resources::kEnvPeerAlso], "http:2382");
  std::set<int> ports;
  for (const auto& p : c["ports"]) ports.insert(p["containerPort"].get<int>());
  EXPECT_EQ(ports, (std::set<int>{2379, 2380, 2381, 2382}));
  const auto& args = c["args"];
  EXPECT_TRUE(std::find(args.begin(), args.end(), "--peer-cert-file=/etc/cairn/tls/peer/tls.crt") != args.end());
  EXPECT_TRUE(std::find(args.begin(), args.end(), "--experimental-peer-skip-client-san-verification") == args.end());
  std::map<std::string, std::string> secrets;
  for (const auto& v : pod["volumes"]) {
    if (v.contains("secret")) secrets[v["name"]] = v["secret"]["secretName"];
  }
  EXPECT_EQ(secrets, (std::map<std::string, std::string>{{"tls-peer", "user-peer"}}));
  EXPECT_NE(resources::SpecHash(s), resources::SpecHash(resources::StatefulSet(Spec(), 3)));
}

TEST(Builders, ProvidedTlsSecretsAreMountedAsTheyAre) {
  auto spec = Spec({{"tls",
                     {{"client", {{"secret", {{"serverSecretName", "my-server"}, {"operatorSecretName", "my-op"}}}}},
                      {"peer", {{"auto", nlohmann::json::object()}}}}}});
  ASSERT_TRUE(spec.tls.client.provided && spec.tls.client.enabled && spec.tls.peer.Auto());
  const auto sts = resources::StatefulSet(spec, 3);
  std::map<std::string, std::string> secrets;
  for (const auto& v : sts["spec"]["template"]["spec"]["volumes"]) {
    if (v.contains("secret")) secrets[v["name"]] = v["secret"]["secretName"];
  }
  EXPECT_EQ(secrets, (std::map<std::string, std::string>{{"tls-peer", "c-peer-tls"}, {"tls-server", "my-server"}}));
  EXPECT_EQ(TlsSecretName(spec, "operator"), "my-op");
  EXPECT_EQ(TlsSecretName(spec, "peer"), "c-peer-tls");
  // The user's own peer certificates keep etcd's SAN check; the operator's wildcard ones skip it.
  auto has_skip = [](const ClusterSpec& s) {
    const auto built = resources::StatefulSet(s, 3);
    const auto& args = built["spec"]["template"]["spec"]["containers"][0]["args"];
    return std::find(args.begin(), args.end(), "--experimental-peer-skip-client-san-verification") != args.end();
  };
  EXPECT_TRUE(has_skip(spec));
  auto own = Spec({{"tls", {{"peer", {{"secret", {{"secretName", "my-peer"}}}}}}}});
  EXPECT_FALSE(has_skip(own));
}

TEST(Builders, CertManagerCertificatesAskForWhatTheOperatorWouldIssue) {
  auto spec = Spec({{"tls", {{"client", {{"certManager", {{"issuerRef", {{"name", "ca"}, {"kind", "ClusterIssuer"}}}}}}}}}});
  ASSERT_TRUE(spec.tls.client.cert_manager && !spec.tls.client.Auto());
  EXPECT_EQ(spec.tls.client.issuer.group, "cert-manager.io");
  auto cert = resources::CertManagerCertificate(spec, "c-server-tls", "c-server", {"*.c-peer.ns.svc", "localhost", "127.0.0.1"},
                                                true, false, spec.tls.client.issuer);
  EXPECT_EQ(cert["apiVersion"], "cert-manager.io/v1");
  EXPECT_EQ(cert["kind"], "Certificate");
  const auto& s = cert["spec"];
  EXPECT_EQ(s["secretName"], "c-server-tls");
  EXPECT_EQ(s["dnsNames"], (nlohmann::json{"*.c-peer.ns.svc", "localhost"}));
  EXPECT_EQ(s["ipAddresses"], (nlohmann::json{"127.0.0.1"}));
  EXPECT_EQ(s["usages"], (nlohmann::json{"digital signature", "key encipherment", "server auth"}));
  EXPECT_EQ(s["duration"], "2160h");
  EXPECT_EQ(s["renewBefore"], "720h") << "renewed with a third of its life left, as the operator renews";
  EXPECT_EQ(s["issuerRef"], (nlohmann::json{{"name", "ca"}, {"kind", "ClusterIssuer"}, {"group", "cert-manager.io"}}));
  EXPECT_EQ(s["privateKey"]["algorithm"], "ECDSA");
  ExpectOwned(cert);
  EXPECT_FALSE(cert["metadata"]["annotations"][naming::kAnnotationSpecHash].get<std::string>().empty());
}

TEST(Builders, ATlsSideTakesOneSourceWithItsSecretNames) {
  for (const auto& bad : {nlohmann::json{{"client", {{"auto", nlohmann::json::object()}, {"secret", {{"serverSecretName", "s"}, {"operatorSecretName", "o"}}}}}},
                          nlohmann::json{{"peer", {{"auto", nlohmann::json::object()}, {"certManager", {{"issuerRef", {{"name", "i"}}}}}}}},
                          nlohmann::json{{"peer", {{"certManager", {{"issuerRef", {{"name", "i"}, {"kind", "Secret"}}}}}}}},
                          nlohmann::json{{"client", {{"secret", {{"serverSecretName", "s"}}}}}},
                          nlohmann::json{{"peer", {{"secret", nlohmann::json::object()}}}}}) {
    auto parsed = ClusterSpec::Parse({{"metadata", {{"name", "c"}, {"namespace", "ns"}}}, {"spec", {{"tls", bad}}}});
    ASSERT_FALSE(parsed.ok()) << bad.dump();
    EXPECT_NE(parsed.status().message().find("spec.tls."), std::string::npos) << parsed.status().message();
  }
}

TEST(Builders, TlsSecretsCarryBase64PemsAndAreOwned) {
  auto spec = Spec();
  auto ca = resources::CaSecret(spec, "CERT", "KEY");
  ExpectOwned(ca);
  EXPECT_EQ(ca["metadata"]["name"], "c-ca");
  EXPECT_EQ(ca["data"]["ca.crt"], "Q0VSVA==");
  EXPECT_EQ(ca["data"]["ca.key"], "S0VZ");
  auto leaf = resources::CertSecret(spec, "c-peer-tls", "C", "K", "CA");
  ExpectOwned(leaf);
  EXPECT_EQ(leaf["type"], "kubernetes.io/tls");
  EXPECT_EQ(leaf["data"]["tls.crt"], "Qw==");
  EXPECT_EQ(leaf["data"]["ca.crt"], "Q0E=");
}

ClusterSpec RestoringSpec() {
  ClusterSpec spec = Spec({{"bootstrap", {{"restore", {{"backupName", "nightly"}}}}}});
  ResolvedRestore r;
  r.image = "cairn-operator:0.1.0";
  r.endpoint = "https://minio:9000";
  r.bucket = "backups";
  r.region = "eu-west-1";
  r.path_style = true;
  r.manifest = "prod/ns/c/full-20261207T060000Z-00000000000000000042.db.zst.manifest.json";
  r.has_ca = true;
  r.secret_data = {{"AWS_ACCESS_KEY_ID", "id"}, {"AWS_SECRET_ACCESS_KEY", "key"}, {"ca.crt", "PEM"}};
  spec.resolved_restore = r;
  return spec;
}

// The backup Pod of a pvc destination: the claim read-write, a TLS cluster's operator
// client certificate passed on, retention's keys, and the limits that end a stuck run.
// Members on dedicated, tainted nodes: the Pods that back up and verify their data run
// there too, but without the members' affinity rules (written to spread members).
TEST(Builders, BackupAndVerifyPodsRunWhereTheClusterMayRun) {
  const auto cluster = Spec({{"podTemplate",
                              {{"nodeSelector", {{"pool", "etcd"}}},
                               {"priorityClassName", "system-cluster-critical"},
                               {"tolerations", {{{"key", "dedicated"}, {"operator", "Equal"}, {"value", "etcd"}}}},
                               {"affinity", {{"podAntiAffinity", nlohmann::json::object()}}}}}});
  resources::BackupPodParams b;
  b.pvc = {"etcd-backups", ""};
  b.placement = resources::PlacementOf(cluster);
  resources::VerifyPodParams v;
  v.placement = resources::PlacementOf(cluster);
  for (const auto& pod : {resources::BackupPod(b), resources::VerifyPod(v)}) {
    const auto& spec = pod["spec"];
    EXPECT_EQ(spec["nodeSelector"], (nlohmann::json{{"pool", "etcd"}}));
    EXPECT_EQ(spec["tolerations"][0]["key"], "dedicated");
    EXPECT_EQ(spec["priorityClassName"], "system-cluster-critical");
    EXPECT_FALSE(spec.contains("affinity"));
  }
  resources::BackupPodParams plain;
  plain.pvc = {"etcd-backups", ""};
  EXPECT_FALSE(resources::BackupPod(plain)["spec"].contains("nodeSelector"));
  EXPECT_FALSE(resources::BackupPod(plain)["spec"].contains("tolerations"));
}

TEST(Builders, TheBackupPodMountsTheClaimAndPresentsTheOperatorsCertificate) {
  resources::BackupPodParams p;
  p.ns = "ns";
  p.backup = "c-202612070600";
  p.backup_uid = "uid-b";
  p.cluster = "c";
  p.operator_image = "cairn-operator:0.1.0";
  p.pvc = {"etcd-backups", "team/"};
  p.prefix = "team/ns/c/";
  p.endpoints = {"https://c-0.c-peer.ns.svc:2379", "https://c-1.c-peer.ns.svc:2379"};
  p.client_tls_secret = "c-operator-tls";
  p.timeout = std::chrono::seconds(3600);
  p.expire = {"team/ns/c/full-20261206T060000Z-00000000000000000007.db.zst"};
  const auto pod = resources::BackupPod(p);
  EXPECT_EQ(pod["metadata"]["name"], "c-202612070600-backup");
  EXPECT_EQ(pod["metadata"]["ownerReferences"][0]["uid"], "uid-b");
  const auto& spec = pod["spec"];
  EXPECT_EQ(spec["activeDeadlineSeconds"], 3900);
  EXPECT_EQ(spec["volumes"][1]["secret"]["secretName"], "c-operator-tls");
  const auto& c = spec["containers"][0];
  EXPECT_EQ(c["terminationMessagePolicy"], "FallbackToLogsOnError");
  EXPECT_FALSE(c["securityContext"]["allowPrivilegeEscalation"].get<bool>());
  std::vector<std::string> args;
  for (const auto& a : c["args"]) args.push_back(a.get<std::string>());
  const std::vector<std::string> want = {"backup-to-dir",
                                         "--dir=/backup",
                                         "--prefix=team/ns/c/",
                                         "--endpoints=https://c-0.c-peer.ns.svc:2379,https://c-1.c-peer.ns.svc:2379",
                                         "--cluster=ns/c",
                                         "--version=",
                                         "--compression=zstd",
                                         "--timeout=3600",
                                         "--expire=" + p.expire[0],
                                         "--cacert=/etc/cairn/client-tls/ca.crt",
                                         "--cert=/etc/cairn/client-tls/tls.crt",
                                         "--key=/etc/cairn/client-tls/tls.key"};
  EXPECT_EQ(args, want);
}

TEST(Builders, RestoreFetchesInAnInitContainerFromTheRecordedSource) {
  EXPECT_FALSE(resources::StatefulSet(Spec(), 3)["spec"]["template"]["spec"].contains("initContainers"));
  const ClusterSpec spec = RestoringSpec();
  auto sts = resources::StatefulSet(spec, 3);
  const auto& init = sts["spec"]["template"]["spec"]["initContainers"].at(0);
  EXPECT_EQ(init["image"], "cairn-operator:0.1.0");
  EXPECT_EQ(init["command"][1], "/etc/cairn/bootstrap/fetch-backup.sh");
  EXPECT_EQ(init["env"][1]["valueFrom"]["secretKeyRef"]["name"], "c-restore");
  auto cm = resources::ConfigMap(spec, {});
  auto recorded = ResolvedRestore::FromJson(cm["data"]["restore.json"].get<std::string>());
  ASSERT_TRUE(recorded.has_value());
  EXPECT_EQ(recorded->manifest, spec.resolved_restore->manifest);
  EXPECT_TRUE(recorded->secret_data.empty()) << "credentials go to the Secret, never the ConfigMap";
  EXPECT_EQ(cm["data"].dump().find("\"key\""), std::string::npos);
  auto secret = resources::RestoreSecret(spec);
  ExpectOwned(secret);
  EXPECT_EQ(secret["metadata"]["name"], "c-restore");
  EXPECT_EQ(secret["data"]["AWS_SECRET_ACCESS_KEY"], "a2V5");
  // Read back from the ConfigMap, the template is the same: it never changes after bootstrap.
  ClusterSpec again = Spec({{"bootstrap", {{"restore", {{"backupName", "nightly"}}}}}});
  again.resolved_restore = recorded;
  EXPECT_EQ(resources::StatefulSet(again, 3), sts);
}

// Runs the real start script with a fake `cairn` that records its arguments.
class StartScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairn-op-script-XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::filesystem::create_directories(dir_ + "/cfg");
    std::filesystem::create_directories(dir_ + "/root");
    Write(dir_ + "/cfg/run.sh", resources::StartScript());
    Write(dir_ + "/cfg/token", "tok");
    Write(dir_ + "/fake-cairn", "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done > " + dir_ + "/args\n");
    std::filesystem::permissions(dir_ + "/fake-cairn", std::filesystem::perms::owner_all);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static void Write(const std::string& path, const std::string& content) { std::ofstream(path) << content; }
  int Run(const std::string& env = "") {
    std::string cmd = "env " + env + " POD_NAME=c-1 POD_NAMESPACE=ns PEER_SERVICE=c-peer CAIRN_BOOTSTRAP_DIR=" + dir_ +
                      "/cfg CAIRN_DATA_ROOT=" + dir_ + "/root CAIRN_BIN=" + dir_ +
                      "/fake-cairn timeout 2 /bin/sh " + dir_ + "/cfg/run.sh --snapshot-count=7";
    return std::system(cmd.c_str());
  }
  std::string Args(const std::string& file = "args") {
    std::ifstream in(dir_ + "/" + file);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // The restore fetch script for `restore`, as member c-1's init container runs it, with
  // a fake cairn-operator recording its arguments in fetch-args.
  void WriteFetch(const ResolvedRestore& restore) {
    Write(dir_ + "/cfg/fetch.sh", resources::RestoreFetchScript());
    Write(dir_ + "/cfg/restore.json", restore.ToJson().dump());
    Write(dir_ + "/fake-operator", "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done > " + dir_ + "/fetch-args\n");
    std::filesystem::permissions(dir_ + "/fake-operator", std::filesystem::perms::owner_all);
  }
  int Fetch() {
    const std::string cmd = "env POD_NAME=c-1 CAIRN_BOOTSTRAP_DIR=" + dir_ + "/cfg CAIRN_DATA_ROOT=" + dir_ +
                            "/root CAIRN_OPERATOR_BIN=" + dir_ + "/fake-operator timeout 5 /bin/sh " + dir_ + "/cfg/fetch.sh";
    return std::system(cmd.c_str());
  }
  std::string dir_;
};

TEST_F(StartScriptTest, StartsWithItsEntry) {
  Write(dir_ + "/cfg/c-1.initial-cluster", "c-0=http://a:2380,c-1=http://b:2380");
  Write(dir_ + "/cfg/c-1.initial-cluster-state", "existing");
  ASSERT_EQ(Run(), 0);
  std::string args = Args();
  EXPECT_NE(args.find("--name=c-1\n"), std::string::npos) << args;
  EXPECT_NE(args.find("--initial-cluster=c-0=http://a:2380,c-1=http://b:2380\n"), std::string::npos);
  EXPECT_NE(args.find("--initial-cluster-state=existing\n"), std::string::npos);
  EXPECT_NE(args.find("--initial-cluster-token=tok\n"), std::string::npos);
  EXPECT_NE(args.find("--initial-advertise-peer-urls=http://c-1.c-peer.ns.svc:2380\n"), std::string::npos);
  EXPECT_NE(args.find("--data-dir=" + dir_ + "/root/data\n"), std::string::npos);
  EXPECT_NE(args.find("--snapshot-count=7\n"), std::string::npos);
  EXPECT_NE(args.find("--listen-metrics-urls=http://0.0.0.0:2381\n"), std::string::npos) << "the probes' port";
}

TEST_F(StartScriptTest, UsesHttpsUrlsForTheSidesWithTls) {
  Write(dir_ + "/cfg/c-1.initial-cluster", "c-0=https://a:2380,c-1=https://b:2380");
  Write(dir_ + "/cfg/c-1.initial-cluster-state", "existing");
  ASSERT_EQ(Run("CLIENT_SCHEME=https PEER_SCHEME=https"), 0);
  std::string args = Args();
  EXPECT_NE(args.find("--listen-client-urls=https://0.0.0.0:2379\n"), std::string::npos) << args;
  EXPECT_NE(args.find("--advertise-client-urls=https://c-1.c-peer.ns.svc:2379\n"), std::string::npos);
  EXPECT_NE(args.find("--listen-peer-urls=https://0.0.0.0:2380\n"), std::string::npos);
  EXPECT_NE(args.find("--initial-advertise-peer-urls=https://c-1.c-peer.ns.svc:2380\n"), std::string::npos);
  EXPECT_NE(args.find("--listen-metrics-urls=http://0.0.0.0:2381\n"), std::string::npos) << "probes stay plain";
}

TEST_F(StartScriptTest, ListensOnASecondPeerEndpointWhileMembersMove) {
  Write(dir_ + "/cfg/c-1.initial-cluster", "c-0=http://a:2380,c-1=http://b:2380");
  Write(dir_ + "/cfg/c-1.initial-cluster-state", "existing");
  ASSERT_EQ(Run("PEER_SCHEME=http PEER_PORT=2380 PEER_ALSO=https:2382"), 0);
  std::string args = Args();
  EXPECT_NE(args.find("--listen-peer-urls=http://0.0.0.0:2380,https://0.0.0.0:2382\n"), std::string::npos) << args;
  EXPECT_NE(args.find("--initial-advertise-peer-urls=http://c-1.c-peer.ns.svc:2380\n"), std::string::npos);
  ASSERT_EQ(Run("PEER_SCHEME=https PEER_PORT=2382"), 0);
  args = Args();
  EXPECT_NE(args.find("--listen-peer-urls=https://0.0.0.0:2382\n"), std::string::npos) << args;
  EXPECT_NE(args.find("--initial-advertise-peer-urls=https://c-1.c-peer.ns.svc:2382\n"), std::string::npos);
}

TEST_F(StartScriptTest, WaitsWithoutEntry) {
  int rc = Run();  // `timeout 2` ends the wait loop
  EXPECT_NE(rc, 0);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/args")) << "started without being a member";
}

TEST_F(StartScriptTest, DiscardsDataOfRemovedIdentityKeepsOwn) {
  Write(dir_ + "/cfg/c-1.initial-cluster", "c-1=http://b:2380");
  Write(dir_ + "/cfg/c-1.initial-cluster-state", "existing");
  Write(dir_ + "/cfg/c-1.member-id", "00000000000000bb");
  std::filesystem::create_directories(dir_ + "/root/data/member");
  Write(dir_ + "/root/member-id", "00000000000000aa");
  ASSERT_EQ(Run(), 0);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/root/data/member")) << "stale identity's data kept";
  std::filesystem::create_directories(dir_ + "/root/data/member");
  ASSERT_EQ(Run(), 0);
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/root/data/member")) << "own data discarded";
}

TEST_F(StartScriptTest, RestoresAFetchedBackupOnlyAsANewMemberWithoutData) {
  Write(dir_ + "/cfg/c-1.initial-cluster", "c-0=http://a:2380,c-1=http://b:2380");
  Write(dir_ + "/cfg/c-1.initial-cluster-state", "new");
  Write(dir_ + "/fake-cairn", "#!/bin/sh\nif [ \"$1\" = snapshot ]; then\n  for a in \"$@\"; do echo \"$a\"; done > " + dir_ +
                                   "/restore-args\n  mkdir -p " + dir_ + "/root/data.restoring/member\nfi\n");
  Write(dir_ + "/root/restore.db", "snapshot");
  ASSERT_EQ(Run(), 0);
  std::ifstream in(dir_ + "/restore-args");
  std::stringstream args;
  args << in.rdbuf();
  EXPECT_NE(args.str().find("restore\n" + dir_ + "/root/restore.db\n--name=c-1\n"), std::string::npos) << args.str();
  EXPECT_NE(args.str().find("--initial-cluster=c-0=http://a:2380,c-1=http://b:2380\n"), std::string::npos);
  EXPECT_NE(args.str().find("--initial-cluster-token=tok\n"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/root/data/member"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/root/restore.db"));
  // With data already there, or as a member added later, nothing is restored.
  std::filesystem::remove(dir_ + "/restore-args");
  Write(dir_ + "/root/restore.db", "snapshot");
  ASSERT_EQ(Run(), 0);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/restore-args"));
  std::filesystem::remove_all(dir_ + "/root/data");
  Write(dir_ + "/cfg/c-1.initial-cluster-state", "existing");
  ASSERT_EQ(Run(), 0);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/restore-args"));
}

TEST_F(StartScriptTest, FetchScriptFetchesTheRecordedBackupOnlyForANewMemberWithoutData) {
  WriteFetch(*RestoringSpec().resolved_restore);
  auto fetch = [&] { return Fetch(); };
  Write(dir_ + "/cfg/c-1.initial-cluster-state", "new");
  ASSERT_EQ(fetch(), 0);
  EXPECT_EQ(Args("fetch-args"), "fetch-backup\n--endpoint=https://minio:9000\n--bucket=backups\n--region=eu-west-1\n--manifest=" +
                            RestoringSpec().resolved_restore->manifest + "\n--out=" + dir_ +
                            "/root/restore.db\n--path-style\n--ca-file=/etc/cairn/restore/ca.crt\n");
  std::filesystem::remove(dir_ + "/fetch-args");
  Write(dir_ + "/cfg/c-1.initial-cluster-state", "existing");
  ASSERT_EQ(fetch(), 0);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/fetch-args")) << "a member added later never restores";
  Write(dir_ + "/cfg/c-1.initial-cluster-state", "new");
  std::filesystem::create_directories(dir_ + "/root/data");
  ASSERT_EQ(fetch(), 0);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/fetch-args")) << "a member with data never restores";
}

// From a claim: the init container mounts it read-only and fetches from the directory,
// with no S3 credentials.
TEST_F(StartScriptTest, FromAClaimTheFetchReadsTheMountedDirectory) {
  ClusterSpec spec = Spec({{"bootstrap", {{"restore", {{"backupName", "nightly"}}}}}});
  ResolvedRestore r;
  r.image = "cairn-operator:0.1.0";
  r.claim = "etcd-backups";
  r.manifest = "ns/c/full-20261207T060000Z-00000000000000000042.db.zst.manifest.json";
  spec.resolved_restore = r;
  const auto pod = resources::StatefulSet(spec, 3)["spec"]["template"]["spec"];
  const auto& init = pod["initContainers"].at(0);
  EXPECT_EQ(init["env"].size(), 1u) << "POD_NAME only: " << init["env"].dump();
  EXPECT_EQ(init["volumeMounts"].back(), nlohmann::json({{"name", "backup"}, {"mountPath", "/backup"}, {"readOnly", true}}));
  EXPECT_EQ(pod["volumes"].back(),
            nlohmann::json({{"name", "backup"},
                            {"persistentVolumeClaim", {{"claimName", "etcd-backups"}, {"readOnly", true}}}}));
  WriteFetch(*spec.resolved_restore);
  Write(dir_ + "/cfg/c-1.initial-cluster-state", "new");
  ASSERT_EQ(Fetch(), 0);
  EXPECT_EQ(Args("fetch-args"), "fetch-backup\n--dir=/backup\n--manifest=" + r.manifest + "\n--out=" + dir_ + "/root/restore.db\n");
}

// A point-in-time target travels from the spec through the recorded resolution to the
// fetch script's flags, and the start script replays what was fetched.
TEST_F(StartScriptTest, PointInTimeTargetsReachFetchBackupAndTheDeltasAreReplayed) {
  Write(dir_ + "/cfg/c-1.initial-cluster-state", "new");
  for (auto [field, flag] : {std::pair{"toRevision", "--to-revision=12345"}, {"toTime", "--to-time=2026-12-07T06:42:10Z"}}) {
    ResolvedRestore r = *RestoringSpec().resolved_restore;
    if (std::string(field) == "toRevision") r.to_revision = 12345;
    else r.to_time = "2026-12-07T06:42:10Z";
    auto again = ResolvedRestore::FromJson(r.ToJson().dump());
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->to_revision, r.to_revision);
    EXPECT_EQ(again->to_time, r.to_time);
    WriteFetch(r);
    ASSERT_EQ(Fetch(), 0);
    const std::string args = Args("fetch-args");
    EXPECT_NE(args.find(std::string("\n") + flag + "\n--deltas-out=" + dir_ + "/root/restore.deltas\n"),
              std::string::npos) << args;
  }
  EXPECT_EQ(ResolvedRestore::FromJson(RestoringSpec().resolved_restore->ToJson().dump())->to_revision, 0)
      << "a record without a target stays a plain restore";

  Write(dir_ + "/cfg/c-1.initial-cluster", "c-1=http://b:2380");
  Write(dir_ + "/fake-cairn", "#!/bin/sh\nif [ \"$1\" = snapshot ]; then\n  for a in \"$@\"; do echo \"$a\"; done > " + dir_ +
                                   "/restore-args\n  mkdir -p " + dir_ + "/root/data.restoring/member\nfi\n");
  Write(dir_ + "/root/restore.db", "snapshot");
  Write(dir_ + "/root/restore.deltas", "deltas");
  ASSERT_EQ(Run(), 0);
  std::ifstream in(dir_ + "/restore-args");
  std::stringstream args;
  args << in.rdbuf();
  EXPECT_NE(args.str().find("restore\n" + dir_ + "/root/restore.db\n--replay=" + dir_ + "/root/restore.deltas\n--name=c-1\n"),
            std::string::npos) << args.str();
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/root/restore.deltas"));
}

TEST(Builders, RestoreTargetsParseAndExcludeEachOther) {
  auto parse = [](nlohmann::json restore) {
    return ClusterSpec::Parse({{"metadata", {{"name", "c"}, {"namespace", "ns"}, {"uid", "u"}, {"generation", 1}}},
                               {"spec", {{"bootstrap", {{"restore", restore}}}}}});
  };
  auto rev = parse({{"backupName", "b"}, {"revision", 77}});
  ASSERT_TRUE(rev.ok()) << rev.status().ToString();
  EXPECT_EQ(rev->restore.revision, 77);
  auto time = parse({{"backupName", "b"}, {"time", "2026-12-07T06:42:10Z"}});
  ASSERT_TRUE(time.ok()) << time.status().ToString();
  EXPECT_EQ(time->restore.time, "2026-12-07T06:42:10Z");
  EXPECT_FALSE(parse({{"backupName", "b"}, {"revision", 77}, {"time", "2026-12-07T06:42:10Z"}}).ok());
  EXPECT_FALSE(parse({{"backupName", "b"}, {"time", "yesterday"}}).ok());
  EXPECT_FALSE(parse({{"backupName", "b"}, {"revision", 0}}).ok());
}

TEST_F(StartScriptTest, AdoptsUnmarkedDataOfSealedBootstrapMember) {
  Write(dir_ + "/cfg/c-1.initial-cluster", "c-1=http://b:2380");
  Write(dir_ + "/cfg/c-1.initial-cluster-state", "existing");
  Write(dir_ + "/cfg/c-1.member-id", "00000000000000bb");
  std::filesystem::create_directories(dir_ + "/root/data/member");
  ASSERT_EQ(Run(), 0);
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/root/data/member"));
}

}  // namespace
}  // namespace cairn::op
