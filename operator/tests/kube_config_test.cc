// KubeConfig loading: in-cluster environment + service-account files, and kubeconfig
// files (current context, explicit context, token, tokenFile, client certificate data
// and relative file references, missing pieces reported as errors).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "operator/kube/kube_config.h"

namespace cairn::op::kube {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("kcfg-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++))) {
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& content) const {
    std::ofstream(path_ / name) << content;
    return (path_ / name).string();
  }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

TEST(KubeConfig, InClusterUsesServiceEnvAndServiceAccountFiles) {
  TempDir sa;
  sa.Write("token", "sa-token\n");
  sa.Write("ca.crt", "CA PEM");
  sa.Write("namespace", "ops");
  std::map<std::string, std::string> env = {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}};
  auto c = InClusterConfig([&](const std::string& k) { return env.count(k) ? env[k] : ""; }, sa.path().string());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->token, "sa-token");
  EXPECT_EQ(c->token_file, sa.path().string() + "/token");
  EXPECT_EQ(c->ca_pem, "CA PEM");
  EXPECT_EQ(c->namespace_, "ops");

  env["KUBERNETES_SERVICE_HOST"] = "fd00::1";
  EXPECT_EQ(InClusterConfig([&](const std::string& k) { return env.count(k) ? env[k] : ""; }, sa.path().string())->server,
            "https://[fd00::1]:443");
  EXPECT_EQ(InClusterConfig([](const std::string&) { return std::string(); }, sa.path().string()).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(KubeConfig, KubeconfigCurrentContextWithTokenAndRelativeCa) {
  TempDir d;
  d.Write("ca.pem", "CA FROM FILE");
  std::string path = d.Write("config", R"(
apiVersion: v1
kind: Config
current-context: dev
contexts:
- name: dev
  context: {cluster: c1, user: u1, namespace: team}
- name: prod
  context: {cluster: c2, user: u2}
clusters:
- name: c1
  cluster: {server: "https://dev.example:6443/", certificate-authority: ca.pem}
- name: c2
  cluster: {server: "https://prod.example:6443", certificate-authority-data: Q0EgREFUQQ==}
users:
- name: u1
  user: {token: dev-token}
- name: u2
  user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ}
)");
  auto dev = LoadKubeconfig(path);
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  EXPECT_EQ(dev->server, "https://dev.example:6443");
  EXPECT_EQ(dev->ca_pem, "CA FROM FILE");
  EXPECT_EQ(dev->token, "dev-token");
  EXPECT_EQ(dev->namespace_, "team");

  auto prod = LoadKubeconfig(path, "prod");
  ASSERT_TRUE(prod.ok()) << prod.status().ToString();
  EXPECT_EQ(prod->ca_pem, "CA DATA");
  EXPECT_EQ(prod->client_cert_pem, "CERT");
  EXPECT_EQ(prod->client_key_pem, "KEY");
  EXPECT_EQ(prod->namespace_, "default");

  EXPECT_EQ(LoadKubeconfig(path, "nope").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(LoadKubeconfig(d.Write("bad", "{ not yaml: [")).ok());
}

TEST(KubeConfig, TokenFileIsReadAndCertWithoutKeyIsRejected) {
  TempDir d;
  d.Write("tok", "from-file\n");
  std::string path = d.Write("config", R"(
current-context: a
contexts: [{name: a, context: {cluster: c, user: u}}, {name: b, context: {cluster: c, user: v}}]
clusters: [{name: c, cluster: {server: "https://x:1"}}]
users: [{name: u, user: {tokenFile: tok}}, {name: v, user: {client-certificate-data: Q0VSVA==}}]
)");
  auto a = LoadKubeconfig(path);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->token, "from-file");
  EXPECT_EQ(LoadKubeconfig(path, "b").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::op::kube
