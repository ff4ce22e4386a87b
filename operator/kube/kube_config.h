// KubeConfig: how to reach and authenticate to the API server, from either the pod's
// in-cluster environment or a kubeconfig file.
//
// In-cluster (as client-go's rest.InClusterConfig): https://$KUBERNETES_SERVICE_HOST:
// $KUBERNETES_SERVICE_PORT, the service-account token file and CA bundle under
// /var/run/secrets/kubernetes.io/serviceaccount. The token file is kept as a path, not
// read once: projected service-account tokens are rotated by the kubelet.
// Kubeconfig: the current (or given) context's cluster and user; token, tokenFile and
// client-certificate auth; file references resolve relative to the kubeconfig's folder;
// *-data fields are base64 PEM.
// Thread-safety: plain value type; loaders are pure apart from reading files.
#pragma once

#include <functional>
#include <string>

#include "server/common/status.h"

namespace cairn::op::kube {

struct KubeConfig {
  std::string server;  // scheme://host:port, no trailing slash
  std::string token;
  std::string token_file;  // reread periodically when set
  std::string ca_pem;      // empty: system trust store
  std::string client_cert_pem;
  std::string client_key_pem;
  bool insecure_skip_tls_verify = false;
  std::string namespace_;  // the context's namespace, or the pod's own in-cluster
};

using EnvLookup = std::function<std::string(const std::string&)>;
std::string ProcessEnv(const std::string& name);

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

Result<KubeConfig> InClusterConfig(const EnvLookup& env = ProcessEnv,
                                   const std::string& service_account_dir = kServiceAccountDir);
Result<KubeConfig> LoadKubeconfig(const std::string& path, const std::string& context = "");

Result<std::string> ReadFileToString(const std::string& path);

}  // namespace cairn::op::kube
