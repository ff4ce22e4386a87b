#include "operator/resources/backup_pod.h"

#include "operator/resources/backup_pod_parts.h"

namespace cairn::op::resources {
namespace {

constexpr const char* kClientTlsDir = "/etc/cairn/client-tls";
constexpr int64_t kUser = 65532;  // the operator image's user

std::string Joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

}  // namespace

std::string BackupPodName(const std::string& backup) { return backup + "-backup"; }

nlohmann::json BackupPod(const BackupPodParams& p) {
  nlohmann::json args = {"backup-to-dir",
                         std::string("--dir=") + kBackupMount,
                         "--prefix=" + p.prefix,
                         "--endpoints=" + Joined(p.endpoints),
                         "--cluster=" + p.ns + "/" + p.cluster,
                         "--version=" + p.version,
                         "--compression=" + p.compression,
                         "--timeout=" + std::to_string(p.timeout.count())};
  for (const auto& key : p.expire) args.push_back("--expire=" + key);
  nlohmann::json volumes = {BackupVolume(p.pvc, false)};
  nlohmann::json mounts = {BackupVolumeMount(false)};
  if (p.client_tls_secret) {
    args.push_back(std::string("--cacert=") + kClientTlsDir + "/ca.crt");
    args.push_back(std::string("--cert=") + kClientTlsDir + "/tls.crt");
    args.push_back(std::string("--key=") + kClientTlsDir + "/tls.key");
    volumes.push_back({{"name", "client-tls"}, {"secret", {{"secretName", *p.client_tls_secret}}}});
    mounts.push_back({{"name", "client-tls"}, {"mountPath", kClientTlsDir}, {"readOnly", true}});
  }
  nlohmann::json container = {
      {"name", "backup"},
      {"image", p.operator_image},
      {"imagePullPolicy", p.image_pull_policy},
      {"command", {"cairn-operator"}},
      {"args", args},
      {"terminationMessagePolicy", "FallbackToLogsOnError"},
      // The snapshot streams through with bounded memory (about 64 MiB).
      {"resources", {{"requests", {{"cpu", "100m"}, {"memory", "64Mi"}}}, {"limits", {{"memory", "256Mi"}}}}},
      {"securityContext",
       {{"allowPrivilegeEscalation", false},
        {"readOnlyRootFilesystem", true},
        {"capabilities", {{"drop", {"ALL"}}}}}},
      {"volumeMounts", mounts}};
  if (p.auth_secret) {
    auto from_secret = [&](const char* key, bool optional) {
      return nlohmann::json{{"secretKeyRef", {{"name", *p.auth_secret}, {"key", key}, {"optional", optional}}}};
    };
    container["env"] = {{{"name", kAuthUserEnv}, {"valueFrom", from_secret("username", true)}},
                        {{"name", kAuthPasswordEnv}, {"valueFrom", from_secret("password", false)}}};
  }
  nlohmann::json pod = {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", BackupPodName(p.backup)},
            {"namespace", p.ns},
            {"labels",
             {{"app.kubernetes.io/name", "cairn-backup"},
              {"app.kubernetes.io/instance", p.cluster},
              {"app.kubernetes.io/managed-by", "cairn-operator"}}},
            {"ownerReferences", nlohmann::json::array({EtcdBackupOwner(p.backup, p.backup_uid)})}}},
          {"spec",
           {{"restartPolicy", "Never"},
            {"activeDeadlineSeconds", p.timeout.count() + 300},
            {"securityContext",
             {{"runAsNonRoot", true},
              {"runAsUser", kUser},
              {"runAsGroup", kUser},
              {"fsGroup", kUser},
              {"fsGroupChangePolicy", "OnRootMismatch"},
              {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
            {"volumes", volumes},
            {"containers", nlohmann::json::array({container})}}}};
  Place(p.placement, &pod["spec"]);
  return pod;
}

}  // namespace cairn::op::resources
