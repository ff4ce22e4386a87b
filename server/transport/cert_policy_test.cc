// The checks etcd makes on a verified client certificate: CRL (PEM or DER, re-read at
// each check, failing closed), allowed CNs and allowed hostnames.
#include "server/transport/cert_policy.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

#include "server/common/test_dir.h"
#include "server/transport/self_signed_cert.h"

namespace cairn::transport {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

X509* ParsePem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* c = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return c;
}

// A CRL revoking `revoked_pem`'s serial (signed by a throwaway key: like etcd, the
// policy compares serials only). DER or PEM.
void WriteCrl(const std::string& path, const std::string& revoked_pem, bool der) {
  X509* cert = ParsePem(revoked_pem);
  ASSERT_NE(cert, nullptr);
  X509_CRL* crl = X509_CRL_new();
  X509_CRL_set_version(crl, 1);
  X509_CRL_set_issuer_name(crl, X509_get_issuer_name(cert));
  ASN1_TIME* now = ASN1_TIME_set(nullptr, time(nullptr));
  X509_CRL_set1_lastUpdate(crl, now);
  X509_REVOKED* r = X509_REVOKED_new();
  X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(cert));
  X509_REVOKED_set_revocationDate(r, now);
  X509_CRL_add0_revoked(crl, r);
  EVP_PKEY* key = EVP_EC_gen("P-256");
  ASSERT_GT(X509_CRL_sign(crl, key, EVP_sha256()), 0);
  BIO* out = BIO_new_file(path.c_str(), "wb");
  ASSERT_EQ(der ? i2d_X509_CRL_bio(out, crl) : PEM_write_bio_X509_CRL(out, crl), 1);
  BIO_free(out);
  EVP_PKEY_free(key);
  ASN1_TIME_free(now);
  X509_CRL_free(crl);
  X509_free(cert);
}

class CertPolicyTest : public ::testing::Test {
 protected:
  std::string Cert(const std::string& name, std::vector<std::string> hosts) {
    auto files = SelfSignedCert(*PosixFileSystem(), dir_.Join(name), hosts, 1);
    EXPECT_TRUE(files.ok()) << files.status().ToString();
    return Slurp(files->cert_file);
  }
  TempDir dir_;
};

TEST_F(CertPolicyTest, ARevokedSerialIsRefusedOthersPassAndTheFileIsRereadEachTime) {
  const std::string revoked = Cert("a", {"127.0.0.1"});
  const std::string other = Cert("b", {"127.0.0.1"});
  CertPolicy p;
  p.crl_file = dir_.Join("crl.pem");
  WriteCrl(p.crl_file, revoked, /*der=*/false);
  Status s = p.Check(revoked);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("revoked by " + p.crl_file), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("serial"), std::string::npos);
  EXPECT_TRUE(p.Check(other).ok());
  WriteCrl(p.crl_file, other, /*der=*/true);  // replaced, and now DER
  EXPECT_TRUE(p.Check(revoked).ok()) << "the replaced CRL no longer lists it";
  EXPECT_FALSE(p.Check(other).ok());
}

TEST_F(CertPolicyTest, AnUnreadableCrlFailsClosed) {
  const std::string cert = Cert("a", {"127.0.0.1"});
  CertPolicy p;
  p.crl_file = dir_.Join("missing.pem");
  EXPECT_EQ(p.Check(cert).code(), StatusCode::kPermissionDenied);
  std::ofstream(dir_.Join("garbage.pem")) << "not a CRL";
  p.crl_file = dir_.Join("garbage.pem");
  Status s = p.Check(cert);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("holds no certificate revocation list"), std::string::npos) << s.ToString();
  EXPECT_EQ(CertPolicy{}.Check("no pem here").code(), StatusCode::kPermissionDenied);
}

TEST_F(CertPolicyTest, AllowedHostnamesMatchDnsAndIpSans) {
  const std::string cert = Cert("a", {"member-1.example", "10.1.2.3"});
  CertPolicy p;
  p.allowed_hostnames = {"other.example"};
  EXPECT_FALSE(p.Check(cert).ok());
  p.allowed_hostnames = {"other.example", "member-1.example"};
  EXPECT_TRUE(p.Check(cert).ok());
  p.allowed_hostnames = {"10.1.2.3"};
  EXPECT_TRUE(p.Check(cert).ok());
  p.allowed_hostnames = {"10.1.2.4"};
  EXPECT_FALSE(p.Check(cert).ok());
}

TEST_F(CertPolicyTest, AllowedCnsMatchTheSubjectCommonNameOnly) {
  // The auto-TLS certificate has no CN (O=etcd only), so no allowed CN matches it...
  const std::string cert = Cert("a", {"member-1.example"});
  CertPolicy p;
  p.allowed_cns = {"etcd", "member-1.example"};
  Status s = p.Check(cert);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("neither of an allowed CN nor valid for an allowed hostname"), std::string::npos);
  // ...but an allowed hostname may admit what an allowed CN does not (etcd 3.5: either).
  p.allowed_hostnames = {"member-1.example"};
  EXPECT_TRUE(p.Check(cert).ok());
  EXPECT_TRUE(CertPolicy{}.Empty());
  EXPECT_FALSE(p.Empty());
}

}  // namespace
}  // namespace cairn::transport
