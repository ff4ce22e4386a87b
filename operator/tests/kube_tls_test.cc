// The client over HTTPS, as in-cluster and kubeconfig configurations use it: the API
// server's certificate (for IP 127.0.0.1) verifies against the configured CA, fails
// without it, and insecure-skip-tls-verify skips verification. The certificate is made
// with the openssl command-line tool at test time.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "operator/kube/client.h"
#include "operator/tests/fake_apiserver.h"

namespace cairn::op::kube {
namespace {

namespace fs = std::filesystem;
using testing::FakeApiServer;

struct SelfSigned {
  std::string cert, key;
};

SelfSigned MakeCert(const std::string& san) {
  fs::path dir = fs::temp_directory_path() / ("cairn-tls-" + std::to_string(::getpid()) + "-" + san.substr(0, 2));
  fs::create_directories(dir);
  std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=apiserver"
                    " -addext subjectAltName=" + san + " -keyout " + (dir / "key.pem").string() +
                    " -out " + (dir / "cert.pem").string() + " 2>/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  SelfSigned s{ReadFileToString((dir / "cert.pem").string()).value(), ReadFileToString((dir / "key.pem").string()).value()};
  fs::remove_all(dir);
  return s;
}

TEST(KubeTls, VerifiesTheServerAgainstTheConfiguredCa) {
  SelfSigned ip = MakeCert("IP:127.0.0.1");
  FakeApiServer::Options o;
  o.tls_cert_pem = ip.cert;
  o.tls_key_pem = ip.key;
  FakeApiServer fake(o);
  ASSERT_EQ(fake.url().rfind("https://", 0), 0u);

  KubeConfig trusted = fake.Config();
  auto ok = Client::Create(trusted, ClientOptions{std::chrono::seconds(3)}).value()->Get(types::ConfigMap(), "ns", "x");
  EXPECT_EQ(ok.status().code(), StatusCode::kNotFound) << ok.status().ToString();  // reached the server

  KubeConfig untrusted = fake.Config();
  untrusted.ca_pem.clear();
  auto bad = Client::Create(untrusted, ClientOptions{std::chrono::seconds(3)}).value()->Get(types::ConfigMap(), "ns", "x");
  EXPECT_EQ(bad.status().code(), StatusCode::kUnavailable) << bad.status().ToString();
  EXPECT_EQ(fake.CountRequests("GET"), 1);  // the untrusted attempt never got a request through

  KubeConfig insecure = untrusted;
  insecure.insecure_skip_tls_verify = true;
  auto skip = Client::Create(insecure, ClientOptions{std::chrono::seconds(3)}).value()->Get(types::ConfigMap(), "ns", "x");
  EXPECT_EQ(skip.status().code(), StatusCode::kNotFound) << skip.status().ToString();
}

TEST(KubeTls, RejectsACertificateForAnotherHost) {
  SelfSigned other = MakeCert("DNS:elsewhere.example");
  FakeApiServer::Options o;
  o.tls_cert_pem = other.cert;
  o.tls_key_pem = other.key;
  FakeApiServer fake(o);
  auto r = Client::Create(fake.Config(), ClientOptions{std::chrono::seconds(3)}).value()->Get(types::ConfigMap(), "ns", "x");
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_EQ(fake.CountRequests("GET"), 0);
}

}  // namespace
}  // namespace cairn::op::kube
