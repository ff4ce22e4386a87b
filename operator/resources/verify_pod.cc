#include "operator/resources/verify_pod.h"

#include "operator/resources/backup_pod_parts.h"

namespace cairn::op::resources {
namespace {

constexpr const char* kWork = "/work";
constexpr const char* kCaDir = "/etc/cairn/destination-ca";

nlohmann::json SecretEnv(const char* name, const SecretKeyRef& ref, bool optional = false) {
  nlohmann::json key_ref = {{"name", ref.name}, {"key", ref.key}};
  if (optional) key_ref["optional"] = true;
  return {{"name", name}, {"valueFrom", {{"secretKeyRef", key_ref}}}};
}

}  // namespace

std::string VerifyPodName(const std::string& backup) { return backup + "-verify"; }

nlohmann::json VerifyPod(const VerifyPodParams& p) {
  const S3Destination& s3 = p.destination.s3;
  nlohmann::json fetch_args = {"fetch-backup", "--manifest=" + p.manifest, std::string("--out=") + kWork + "/restore.db"};
  nlohmann::json env = nlohmann::json::array();
  nlohmann::json volumes = {{{"name", "work"}, {"emptyDir", nlohmann::json::object()}}};
  nlohmann::json fetch_mounts = {{{"name", "work"}, {"mountPath", kWork}}};
  if (p.destination.pvc) {
    fetch_args.push_back(std::string("--dir=") + kBackupMount);
    volumes.push_back(BackupVolume(*p.destination.pvc, true));
    fetch_mounts.push_back(BackupVolumeMount(true));
  } else {
    for (const std::string& arg : {"--endpoint=" + s3.Endpoint(), "--bucket=" + s3.bucket, "--region=" + s3.region}) {
      fetch_args.push_back(arg);
    }
    if (s3.force_path_style) fetch_args.push_back("--path-style");
    env.push_back(SecretEnv("AWS_ACCESS_KEY_ID", s3.access_key_id));
    env.push_back(SecretEnv("AWS_SECRET_ACCESS_KEY", s3.secret_access_key));
    if (s3.session_token) env.push_back(SecretEnv("AWS_SESSION_TOKEN", *s3.session_token));
  }
  if (!p.destination.pvc && s3.ca_bundle) {
    fetch_args.push_back(std::string("--ca-file=") + kCaDir + "/" + s3.ca_bundle->key);
    volumes.push_back({{"name", "ca"}, {"secret", {{"secretName", s3.ca_bundle->name}}}});
    fetch_mounts.push_back({{"name", "ca"}, {"mountPath", kCaDir}, {"readOnly", true}});
  }
  // A scratch cluster of one, on loopback peer URLs: it talks to nobody.
  const std::string serve = R"SH(set -eu
cairn="${CAIRN_BIN:-cairn}"
peer=http://127.0.0.1:2380
"$cairn" snapshot restore /work/restore.db --name=verify --data-dir=/work/data \
  --initial-cluster=verify=$peer --initial-advertise-peer-urls=$peer --initial-cluster-token=verify
exec "$cairn" --name=verify --data-dir=/work/data --listen-client-urls=http://0.0.0.0:2379 \
  --advertise-client-urls=http://127.0.0.1:2379 --listen-peer-urls=$peer --initial-advertise-peer-urls=$peer \
  --initial-cluster=verify=$peer "$@"
)SH";
  nlohmann::json cairn = {{"name", "cairn"},
                          {"image", p.cairn_image},
                          {"imagePullPolicy", p.image_pull_policy},
                          {"command", {"/bin/sh", "-c", serve, "sh"}},
                          {"ports", {{{"name", "client"}, {"containerPort", 2379}}}},
                          {"volumeMounts", {{{"name", "work"}, {"mountPath", kWork}}}}};
  if (!p.resources.is_null()) cairn["resources"] = p.resources;
  nlohmann::json pod = {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", VerifyPodName(p.backup)},
            {"namespace", p.ns},
            {"labels", {{"app.kubernetes.io/name", "cairn-verify"}, {"app.kubernetes.io/managed-by", "cairn-operator"}}},
            {"ownerReferences", nlohmann::json::array({EtcdBackupOwner(p.backup, p.backup_uid)})}}},
          {"spec",
           {{"restartPolicy", "Never"},
            {"volumes", volumes},
            {"initContainers",
             nlohmann::json::array({{{"name", "fetch-backup"},
                                     {"image", p.operator_image},
                                     {"imagePullPolicy", p.image_pull_policy},
                                     {"command", {"cairn-operator"}},
                                     {"args", fetch_args},
                                     {"env", env},
                                     // fetch-backup streams with bounded memory (about 64 MiB).
                                     {"resources", {{"requests", {{"cpu", "100m"}, {"memory", "64Mi"}}}}},
                                     {"volumeMounts", fetch_mounts}}})},
            {"containers", nlohmann::json::array({cairn})}}}};
  Place(p.placement, &pod["spec"]);
  return pod;
}

}  // namespace cairn::op::resources
