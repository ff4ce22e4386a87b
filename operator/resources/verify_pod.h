// VerifyPod: the short-lived Pod that proves a backup restores. Its init container
// (cairn-operator's image) fetches and checks the backup with `fetch-backup` (from S3,
// or from a pvc destination's claim, mounted read-only: backup_pod_parts.h); its
// container (the cluster's Cairn image) restores it into an emptyDir with `cairn snapshot
// restore` and serves it as a scratch single-member cluster, whose HashKV at the backup's
// revision the BackupController compares with the one the backup recorded. Owned by the
// EtcdBackup, restartPolicy Never, deleted by the controller once it has the answer.
// Thread-safety: pure functions.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "operator/api/backup_spec.h"
#include "operator/resources/backup_pod_parts.h"

namespace cairn::op::resources {

struct VerifyPodParams {
  std::string ns, backup, backup_uid;
  std::string cairn_image, image_pull_policy = "IfNotPresent";
  std::string operator_image;
  BackupDestination destination;
  std::string manifest;  // the backup's manifest key
  // The cluster's spec.resources (null: none): the scratch member holds the same data
  // as the cluster's members, so it gets what they get.
  nlohmann::json resources;
  PodPlacement placement;
};

std::string VerifyPodName(const std::string& backup);
nlohmann::json VerifyPod(const VerifyPodParams& p);

}  // namespace cairn::op::resources
