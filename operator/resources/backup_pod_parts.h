// What the Pods that work on one EtcdBackup share (backup_pod.h, verify_pod.h):
//   * EtcdBackupOwner: they are owned by the EtcdBackup, so deleting it removes them;
//   * PodPlacement: the cluster's nodeSelector, tolerations and priority class, so they
//     run where its members may (dedicated, tainted nodes) and are not preempted first;
//     not its affinity or spread constraints, which are written for the members;
//   * BackupVolume/BackupVolumeMount: how they reach a pvc backup destination
//     (api/backup_spec.h PvcDestination): the claim as a volume, mounted at kBackupMount,
//     where the object keys are relative paths. Read-only where the Pod only reads (verification, restores): a
// ReadOnlyMany claim then serves them all.
// Access modes, as Kubernetes applies them: a ReadWriteOnce claim is attached to one node
// at a time, so Pods on another node wait (ContainerCreating, a Multi-Attach event) until
// the Pods holding it end; the controller's timeouts turn that wait into a clear failure.
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/api/backup_spec.h"
#include "operator/api/cluster_spec.h"

namespace cairn::op::resources {

inline constexpr const char* kBackupMount = "/backup";
inline constexpr const char* kBackupVolume = "backup";

nlohmann::json EtcdBackupOwner(const std::string& backup, const std::string& uid);

struct PodPlacement {
  std::map<std::string, std::string> node_selector;
  nlohmann::json tolerations;  // null or array
  std::string priority_class;
};
PodPlacement PlacementOf(const ClusterSpec& cluster);
// Adds the placement's fields to a Pod's spec.
void Place(const PodPlacement& placement, nlohmann::json* pod_spec);
nlohmann::json BackupVolume(const PvcDestination& pvc, bool read_only);
nlohmann::json BackupVolumeMount(bool read_only);

}  // namespace cairn::op::resources
