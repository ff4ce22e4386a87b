// etcd's check of a peer certificate's SANs against the address the peer connects from,
// with a scripted resolver: IP SANs, DNS SANs by reverse lookup (exact and wildcard) and
// by forward lookup, certificates without SANs, and the cache.
#include "server/transport/peer_san_check.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "server/common/test_dir.h"
#include "server/transport/self_signed_cert.h"

namespace cairn::transport {
namespace {

class PeerSanCheckTest : public ::testing::Test {
 protected:
  std::string Cert(const std::string& name, std::vector<std::string> hosts) {
    auto files = SelfSignedCert(*PosixFileSystem(), dir_.Join(name), hosts, 1);
    EXPECT_TRUE(files.ok()) << files.status().ToString();
    std::ifstream in(files->cert_file);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  PeerSanCheck Check() {
    PeerSanCheck::Resolver r;
    r.reverse = [this](const std::string& ip) {
      ++lookups_;
      auto it = ptr_.find(ip);
      return it == ptr_.end() ? std::vector<std::string>{} : it->second;
    };
    r.forward = [this](const std::string& name) {
      ++lookups_;
      auto it = a_.find(name);
      return it == a_.end() ? std::vector<std::string>{} : it->second;
    };
    return PeerSanCheck(r);
  }

  TempDir dir_;
  std::map<std::string, std::vector<std::string>> ptr_, a_;
  int lookups_ = 0;
};

TEST_F(PeerSanCheckTest, AnIpSanMustBeTheRemoteAddress) {
  PeerSanCheck check = Check();
  const std::string cert = Cert("ip", {"10.0.0.5"});
  EXPECT_TRUE(check.Check(cert, "10.0.0.5").ok());
  Status refused = check.Check(cert, "10.0.0.6");
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.message().find("valid for [\"10.0.0.5\"], not 10.0.0.6"), std::string::npos) << refused.message();
  EXPECT_TRUE(Check().Check(Cert("v6", {"::1"}), "0:0::1").ok()) << "the same address in another text form";
}

TEST_F(PeerSanCheckTest, DnsSansMatchByReverseLookupExactlyOrUnderAWildcard) {
  ptr_["10.1.0.7"] = {"m-1.peers.ns.svc.cluster.local."};
  ptr_["10.1.0.8"] = {"evil.other.ns.svc.cluster.local."};
  PeerSanCheck check = Check();
  const std::string wildcard = Cert("wild", {"*.peers.ns.svc.cluster.local"});
  EXPECT_TRUE(check.Check(wildcard, "10.1.0.7").ok());
  Status refused = check.Check(wildcard, "10.1.0.8");
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.message().find("does not match any of DNSNames"), std::string::npos) << refused.message();
  EXPECT_TRUE(check.Check(Cert("exact", {"m-1.peers.ns.svc.cluster.local"}), "10.1.0.7").ok());
  // The wildcard's suffix alone is not a name under it.
  ptr_["10.1.0.9"] = {"peers.ns.svc.cluster.local"};
  EXPECT_FALSE(Check().Check(wildcard, "10.1.0.9").ok());
}

TEST_F(PeerSanCheckTest, DnsSansMatchByForwardLookupAndIpSansDoNotStopThem) {
  a_["member.example"] = {"192.168.1.4", "192.168.1.5"};
  PeerSanCheck check = Check();
  const std::string cert = Cert("fwd", {"member.example", "127.0.0.1"});
  EXPECT_TRUE(check.Check(cert, "192.168.1.5").ok());
  EXPECT_TRUE(check.Check(cert, "127.0.0.1").ok());
  EXPECT_FALSE(check.Check(cert, "192.168.1.6").ok());
}

TEST_F(PeerSanCheckTest, NoCertificateOrNoSansIsNotChecked) {
  PeerSanCheck check = Check();
  EXPECT_TRUE(check.Check("", "10.0.0.1").ok()) << "plaintext peers present nothing";
  // SelfSignedCert always names its hosts; a certificate without any SAN is what
  // etcd lets through, and so does Cairn.
  EXPECT_TRUE(check.Check(Cert("none", {}), "10.0.0.1").ok());
  EXPECT_EQ(check.Check("not a certificate", "10.0.0.1").code(), StatusCode::kPermissionDenied);
}

TEST_F(PeerSanCheckTest, AcceptancesAreCachedRefusalsAreLookedUpAgain) {
  PeerSanCheck check = Check();
  const std::string cert = Cert("cached", {"*.peers.ns.svc"});
  // A new pod connects before its reverse record exists, then gets in once it does.
  EXPECT_FALSE(check.Check(cert, "10.1.0.7").ok());
  ptr_["10.1.0.7"] = {"m-1.peers.ns.svc"};
  lookups_ = 0;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(check.Check(cert, "10.1.0.7").ok());
  EXPECT_EQ(lookups_, 1) << "one reverse lookup for five calls";
}

}  // namespace
}  // namespace cairn::transport
