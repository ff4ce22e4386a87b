// BackupPod: the Pod that runs one backup to a pvc destination, `cairn-operator
// backup-to-dir` (cmd/backup_to_dir.h) in the operator's image with the claim mounted
// read-write: the operator cannot mount a claim in its own Pod.
//   * Name "<backup>-backup", owned by the EtcdBackup (garbage-collected with it): an
//     operator restart finds the same Pod instead of starting a second run.
//   * restartPolicy Never, activeDeadlineSeconds the snapshot limit plus 5 minutes: a
//     stuck run ends as a Failed Pod, never a retry behind the controller's back.
//   * The result is the container's termination message (terminationMessagePolicy
//     FallbackToLogsOnError, so a crash still says why), read from the Pod's status.
//   * Non-root (uid/gid 65532, the image's user) with fsGroup 65532, so the kubelet makes
//     the volume group-writable (fsGroupChangePolicy OnRootMismatch: only the first time);
//     volume types that ignore fsGroup (hostPath) need a directory uid 65532 may write.
//   * TLS clusters: the operator's client certificate Secret is mounted and passed on,
//     the same certificate the operator presents for S3 backups.
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/api/backup_spec.h"
#include "operator/resources/backup_pod_parts.h"

namespace cairn::op::resources {

struct BackupPodParams {
  std::string ns, backup, backup_uid, cluster;
  std::string operator_image, image_pull_policy = "IfNotPresent";
  PvcDestination pvc;
  std::string prefix;  // the cluster's: "<pvc prefix><namespace>/<cluster>/"
  std::vector<std::string> endpoints;
  std::string compression = "zstd", version;
  std::optional<std::string> client_tls_secret;  // holds ca.crt, tls.crt, tls.key
  // spec.auth's Secret (password, optional username): reaches backup-to-dir through the
  // environment (kAuthUserEnv, kAuthPasswordEnv), never through the Pod's spec.
  std::optional<std::string> auth_secret;
  std::chrono::seconds timeout{3600};
  std::vector<std::string> expire;  // full backup objects retention lets go
  PodPlacement placement;
};

// The environment backup-to-dir reads the etcd user it authenticates as from.
inline constexpr const char* kAuthUserEnv = "CAIRN_AUTH_USERNAME";
inline constexpr const char* kAuthPasswordEnv = "CAIRN_AUTH_PASSWORD";

std::string BackupPodName(const std::string& backup);
nlohmann::json BackupPod(const BackupPodParams& p);

}  // namespace cairn::op::resources
