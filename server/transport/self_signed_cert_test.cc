// The --auto-tls certificate: what it contains, that it is made once and reused, that a
// half-written pair is replaced, and that unreadable files are refused, not overwritten.
#include "server/transport/self_signed_cert.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>

#include "server/common/test_dir.h"

namespace cairn::transport {
namespace {

struct CertDeleter {
  void operator()(X509* c) const { X509_free(c); }
};

std::unique_ptr<X509, CertDeleter> ReadCert(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  EXPECT_NE(f, nullptr) << path;
  if (f == nullptr) return nullptr;
  std::unique_ptr<X509, CertDeleter> c(PEM_read_X509(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  return c;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(SelfSignedCert, HasTheListenHostsAsSansAndIsValidForTheGivenYears) {
  TempDir dir;
  auto files = SelfSignedCert(*PosixFileSystem(), dir.Join("fixtures/client"), {"127.0.0.1", "localhost", "::1"}, 2);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_TRUE(files->self_signed);
  EXPECT_EQ(files->cert_file, dir.Join("fixtures/client/cert.pem"));
  EXPECT_TRUE(files->Check("").ok());
  auto cert = ReadCert(files->cert_file);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "::1", 0), 1);
  EXPECT_NE(X509_check_ip_asc(cert.get(), "10.0.0.1", 0), 1);
  EXPECT_NE(X509_check_host(cert.get(), "127.0.0.1", 0, 0, nullptr), 1) << "an IP is an IP SAN, not a DNS one";
  int days = 0, secs = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert.get()), X509_get0_notAfter(cert.get())), 1);
  EXPECT_EQ(days, 730);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(cert.get()), X509_get_subject_name(cert.get())), 0);
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(cert.get())), 1) << "signed by its own key";
  EXPECT_EQ(X509_check_purpose(cert.get(), X509_PURPOSE_SSL_SERVER, 0), 1);
  EXPECT_EQ(X509_check_purpose(cert.get(), X509_PURPOSE_SSL_CLIENT, 0), 1);
  struct stat st{};
  ASSERT_EQ(::stat(files->key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the private key is the owner's alone";
  ASSERT_EQ(::stat(dir.Join("fixtures/client").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(SelfSignedCert, ARestartReusesThePairAndAHalfWrittenPairIsReplaced) {
  TempDir dir;
  const std::string d = dir.Join("peer");
  auto first = SelfSignedCert(*PosixFileSystem(), d, {"127.0.0.1"}, 1);
  ASSERT_TRUE(first.ok());
  const std::string cert = Slurp(first->cert_file), key = Slurp(first->key_file);
  auto again = SelfSignedCert(*PosixFileSystem(), d, {"127.0.0.1"}, 1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Slurp(again->cert_file), cert);
  EXPECT_EQ(Slurp(again->key_file), key);
  // A crash after the key and before the certificate: a new pair, not a mismatched one.
  ASSERT_TRUE(PosixFileSystem()->Remove(first->cert_file).ok());
  auto remade = SelfSignedCert(*PosixFileSystem(), d, {"127.0.0.1"}, 1);
  ASSERT_TRUE(remade.ok());
  EXPECT_NE(Slurp(remade->key_file), key);
  EXPECT_TRUE(remade->Check("").ok());
}

TEST(SelfSignedCert, UnreadableFilesAreRefusedNotOverwritten) {
  TempDir dir;
  const std::string d = dir.Join("client");
  ASSERT_TRUE(PosixFileSystem()->CreateDir(d).ok());
  std::ofstream(d + "/cert.pem") << "not a certificate";
  std::ofstream(d + "/key.pem") << "not a key";
  auto r = SelfSignedCert(*PosixFileSystem(), d, {"127.0.0.1"}, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(d + "/cert.pem"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(Slurp(d + "/cert.pem"), "not a certificate");
}

}  // namespace
}  // namespace cairn::transport
