#include "operator/kube/kube_config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "operator/api/base64.h"

namespace cairn::op::kube {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

YAML::Node Named(const YAML::Node& list, const std::string& name, const char* entry) {
  if (!list || !list.IsSequence()) return {};
  for (const auto& item : list) {
    if (item["name"] && item["name"].as<std::string>() == name) return item[entry];
  }
  return {};
}

std::string Str(const YAML::Node& n, const char* key) {
  return n && n[key] ? n[key].as<std::string>() : std::string();
}

// "<field>" is a path (relative to the kubeconfig) and "<field>-data" base64 PEM.
Result<std::string> FileOrData(const YAML::Node& n, const std::string& field, const std::filesystem::path& dir) {
  std::string data = Str(n, (field + "-data").c_str());
  if (!data.empty()) return Base64Decode(data);
  std::string file = Str(n, field.c_str());
  if (file.empty()) return std::string();
  std::filesystem::path p(file);
  return ReadFileToString((p.is_absolute() ? p : dir / p).string());
}

}  // namespace

std::string ProcessEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v ? v : "";
}

Result<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<KubeConfig> InClusterConfig(const EnvLookup& env, const std::string& dir) {
  std::string host = env("KUBERNETES_SERVICE_HOST"), port = env("KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty()) {
    return Status::FailedPrecondition("not in a cluster: KUBERNETES_SERVICE_HOST/PORT unset");
  }
  // An IPv6 service address needs brackets in a URL, as net.JoinHostPort adds them.
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  KubeConfig c;
  c.server = "https://" + host + ":" + port;
  c.token_file = dir + "/token";
  auto token = ReadFileToString(c.token_file);
  if (!token.ok()) return token.status();
  c.token = Trim(*token);
  auto ca = ReadFileToString(dir + "/ca.crt");
  if (!ca.ok()) return ca.status();
  c.ca_pem = *ca;
  auto ns = ReadFileToString(dir + "/namespace");
  c.namespace_ = ns.ok() ? Trim(*ns) : "default";
  return c;
}

Result<KubeConfig> LoadKubeconfig(const std::string& path, const std::string& context_name) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    return Status::InvalidArgument("kubeconfig " + path + ": " + e.what());
  }
  try {
    std::string ctx_name = context_name.empty() ? Str(root, "current-context") : context_name;
    if (ctx_name.empty()) return Status::InvalidArgument("kubeconfig " + path + ": no current-context");
    YAML::Node ctx = Named(root["contexts"], ctx_name, "context");
    if (!ctx || ctx.IsNull()) return Status::NotFound("kubeconfig " + path + ": no context " + ctx_name);
    YAML::Node cluster = Named(root["clusters"], Str(ctx, "cluster"), "cluster");
    if (!cluster || cluster.IsNull()) return Status::NotFound("kubeconfig " + path + ": no cluster " + Str(ctx, "cluster"));
    YAML::Node user = Named(root["users"], Str(ctx, "user"), "user");

    const std::filesystem::path dir = std::filesystem::path(path).parent_path();
    KubeConfig c;
    c.server = Str(cluster, "server");
    while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
    if (c.server.empty()) return Status::InvalidArgument("kubeconfig " + path + ": cluster has no server");
    c.insecure_skip_tls_verify = cluster["insecure-skip-tls-verify"] && cluster["insecure-skip-tls-verify"].as<bool>();
    auto ca = FileOrData(cluster, "certificate-authority", dir);
    if (!ca.ok()) return ca.status();
    c.ca_pem = *ca;
    c.namespace_ = Str(ctx, "namespace").empty() ? "default" : Str(ctx, "namespace");
    if (user && !user.IsNull()) {
      c.token = Str(user, "token");
      std::string token_file = Str(user, "tokenFile");
      if (!token_file.empty()) {
        std::filesystem::path p(token_file);
        c.token_file = (p.is_absolute() ? p : dir / p).string();
        auto t = ReadFileToString(c.token_file);
        if (!t.ok()) return t.status();
        c.token = Trim(*t);
      }
      auto cert = FileOrData(user, "client-certificate", dir);
      if (!cert.ok()) return cert.status();
      auto key = FileOrData(user, "client-key", dir);
      if (!key.ok()) return key.status();
      c.client_cert_pem = *cert;
      c.client_key_pem = *key;
      if (c.client_cert_pem.empty() != c.client_key_pem.empty()) {
        return Status::InvalidArgument("kubeconfig " + path + ": client certificate without key (or key without certificate)");
      }
    }
    return c;
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("kubeconfig " + path + ": " + e.what());
  }
}

}  // namespace cairn::op::kube
