// spec.tls end to end with real Cairn members: the certificates the operator's own code
// issues (certificates.h, tls/certs.h), mounted the way the kubelet mounts Secrets (a
// ..data symlink swapped atomically on update), passed with the flags the operator's
// StatefulSet gives its members. Three members on loopback then:
//   * serve clients and each other over mutual TLS, and the operator's membership client
//     observes them with its own certificate;
//   * take renewed server and peer certificates without a restart while an application
//     with its client certificate writes continuously: no write fails or is lost, and
//     each member is seen (by connecting) to serve its new certificate;
//   * work with etcdctl --cacert/--cert/--key before and after.
// Runs only with CAIRN_MEMBERSHIP_SERVER naming the cairn binary.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"
#include "operator/etcd/membership_client.h"
#include "operator/reconcile/certificates.h"
#include "operator/resources/builders.h"
#include "operator/tests/etcd_process.h"
#include "operator/tests/secret_volume.h"
#include "operator/tls/certs.h"

namespace cairn::op {
namespace {

using namespace std::chrono_literals;
using testing::EtcdMember;
using testing::EtcdProcess;
using testing::Eventually;
using testing::WriteSecretVolume;
namespace fs = std::filesystem;

constexpr int kMembers = 3;

std::string Shell(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[256];
  while (p != nullptr && fgets(buf, sizeof buf, p) != nullptr) out += buf;
  if (p != nullptr && pclose(p) != 0) out = "FAILED: " + out;
  return out;
}

class TlsCairnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* server = std::getenv("CAIRN_MEMBERSHIP_SERVER");
    if (server == nullptr || *server == '\0') GTEST_SKIP() << "CAIRN_MEMBERSHIP_SERVER is not set";
    char tmpl[] = "/tmp/cairn-tls-XXXXXX";
    root_ = mkdtemp(tmpl);
    auto spec = ClusterSpec::Parse({{"metadata", {{"name", "c"}, {"namespace", "ns"}, {"uid", "0123456789ab"}}},
                                    {"spec", {{"tls", {{"client", {{"auto", nlohmann::json::object()}}},
                                                       {"peer", {{"auto", nlohmann::json::object()}}}}}}}});
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    spec_ = *spec;
    auto ca = tls::MakeCa("c-ca", spec_.tls.ca_validity, Clock::now(), tls::KeyAlgorithm::kEcdsaP256);
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    ca_ = *ca;
    IssueAll(1);
    // The member flags exactly as the operator's StatefulSet passes them, with the
    // Secret mount point moved to this test's directory.
    auto container = resources::StatefulSet(spec_, kMembers)["spec"]["template"]["spec"]["containers"][0];
    for (size_t i = 1; i < container["args"].size(); ++i) {
      std::string arg = container["args"][i];
      if (auto at = arg.find("/etc/cairn/tls"); at != std::string::npos) arg.replace(at, 14, root_ + "/tls");
      member_args_.push_back(arg);
    }
    ASSERT_GE(member_args_.size(), 8u);
    const int base = testing::PortBase();
    std::string cluster;
    for (int i = 0; i < kMembers; ++i) {
      members_[i] = {"c-" + std::to_string(i), base + 2 * i, base + 2 * i + 1, "https", "https"};
      cluster += (i ? "," : "") + members_[i].name + "=" + members_[i].PeerUrl();
      endpoints_.push_back(members_[i].ClientUrl());
    }
    for (int i = 0; i < kMembers; ++i) {
      procs_[i] = std::make_unique<EtcdProcess>(members_[i], cluster, "new", root_ + "/" + members_[i].name, member_args_);
    }
  }
  void TearDown() override {
    for (auto& p : procs_) p.reset();
    if (!root_.empty() && !HasFailure()) fs::remove_all(root_);
  }

  // Issues every certificate spec.tls needs from the CA into the test's Secret volumes
  // (what the kubelet would show after the operator updated the Secrets).
  void IssueAll(int generation) {
    for (const auto& want : NeededCertificates(spec_)) {
      tls::LeafRequest req;
      req.common_name = want.common_name;
      req.hosts = want.hosts;
      req.server_auth = want.server_auth;
      req.client_auth = want.client_auth;
      auto leaf = tls::IssueLeaf(ca_, req, Clock::now());
      ASSERT_TRUE(leaf.ok()) << leaf.status().ToString();
      leaves_[want.use] = *leaf;
      WriteSecretVolume(root_ + "/tls/" + want.use, {{"tls.crt", leaf->cert_pem}, {"tls.key", leaf->key_pem}, {"ca.crt", ca_.cert_pem}},
                        generation);
    }
  }

  ClientTls Tls(const std::string& use) { return {ca_.cert_pem, leaves_[use].cert_pem, leaves_[use].key_pem}; }

  std::string Etcdctl(const std::string& args) {
    const std::string dir = root_ + "/tls/client/";
    return Shell("ETCDCTL_API=3 etcdctl --endpoints=" + endpoints_[0] + "," + endpoints_[1] + " --cacert=" + dir +
               "ca.crt --cert=" + dir + "tls.crt --key=" + dir + "tls.key --command-timeout=10s " + args + " 2>&1");
  }

  std::string root_;
  ClusterSpec spec_;
  tls::KeyPair ca_;
  std::map<std::string, tls::KeyPair> leaves_;
  std::vector<std::string> member_args_;
  std::array<EtcdMember, kMembers> members_;
  std::array<std::unique_ptr<EtcdProcess>, kMembers> procs_;
  std::vector<std::string> endpoints_;
};

TEST_F(TlsCairnTest, MembersOnOperatorCertificatesRotateLeavesUnderWritesWithoutAFailure) {
  MembershipClient op(endpoints_, 3s, Tls("operator"));
  ASSERT_TRUE(Eventually([&] {
    auto members = op.Observe();
    if (!members.ok() || members->size() != kMembers) return false;
    for (const auto& m : *members) {
      if (!m.healthy) return false;
    }
    return op.LinearizableRead().ok();
  }, 30s)) << "the cluster never came up over mutual TLS";
  auto observed = op.Observe();
  ASSERT_TRUE(observed.ok());
  for (const auto& m : *observed) EXPECT_EQ(m.peer_url.rfind("https://", 0), 0u) << m.peer_url;
  EXPECT_EQ(Etcdctl("put before tls"), "OK\n");

  // Without a client certificate the members refuse the operator.
  MembershipClient anonymous(endpoints_, 2s, ClientTls{ca_.cert_pem, "", ""});
  EXPECT_FALSE(anonymous.List().ok());

  // An application with its client certificate writes continuously.
  const ClientTls app = Tls("client");
  std::atomic<int> failed{0};
  std::vector<std::string> acked;
  std::jthread writer([&](std::stop_token stop) {
    grpc::SslCredentialsOptions o{app.ca_pem, app.key_pem, app.cert_pem};
    std::array<std::unique_ptr<etcdserverpb::KV::Stub>, kMembers> kv;
    for (int i = 0; i < kMembers; ++i) {
      kv[i] = etcdserverpb::KV::NewStub(
          grpc::CreateChannel("127.0.0.1:" + std::to_string(members_[i].client_port), grpc::SslCredentials(o)));
    }
    for (int n = 0; !stop.stop_requested(); ++n) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + 5s);
      etcdserverpb::PutRequest req;
      req.set_key("w-" + std::to_string(n));
      req.set_value("v");
      etcdserverpb::PutResponse resp;
      if (kv[n % kMembers]->Put(&ctx, req, &resp).ok()) {
        acked.push_back(req.key());
      } else {
        ++failed;
      }
    }
  });
  std::this_thread::sleep_for(500ms);

  // Renewal: new server and peer certificates from the same CA, swapped in atomically.
  std::map<std::string, std::string> old_serial;
  for (const auto& [use, pair] : leaves_) old_serial[use] = tls::ParseCert(pair.cert_pem)->serial_hex;
  IssueAll(2);
  const std::string new_server = tls::ParseCert(leaves_["server"].cert_pem)->serial_hex;
  ASSERT_NE(new_server, old_serial["server"]);
  MembershipClient renewed(endpoints_, 3s, Tls("operator"));
  for (const auto& url : endpoints_) {
    EXPECT_TRUE(Eventually([&] {
      auto served = renewed.ServedCertificate(url);
      return served.ok() && tls::ParseCert(*served)->serial_hex == new_server;
    }, 15s)) << url << " never served the renewed certificate";
  }
  std::this_thread::sleep_for(1500ms);  // more writes over the renewed certificates
  writer.request_stop();
  writer.join();

  EXPECT_EQ(failed.load(), 0) << "writes failed during the renewal";
  EXPECT_GT(acked.size(), 50u);
  // Peers still agree after the peer certificates changed: a quorum read and a write.
  EXPECT_TRUE(renewed.LinearizableRead().ok());
  EXPECT_EQ(Etcdctl("put after tls"), "OK\n");
  const std::string count = Etcdctl("get w- --prefix --keys-only -w json");
  ASSERT_EQ(count.rfind("FAILED", 0), std::string::npos) << count;
  auto json = nlohmann::json::parse(count);
  EXPECT_EQ(json["count"].get<size_t>(), acked.size()) << "acknowledged writes lost";
  std::printf("TLS renewal under writes: %zu writes acknowledged, %d failed\n", acked.size(), failed.load());
}

}  // namespace
}  // namespace cairn::op
