#include "operator/resources/backup_pod_parts.h"

namespace cairn::op::resources {

nlohmann::json EtcdBackupOwner(const std::string& backup, const std::string& uid) {
  return {{"apiVersion", "etcd.cairn.dev/v1alpha1"},
          {"kind", "EtcdBackup"},
          {"name", backup},
          {"uid", uid},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

PodPlacement PlacementOf(const ClusterSpec& cluster) {
  return {cluster.pod.node_selector, cluster.pod.tolerations, cluster.pod.priority_class};
}

void Place(const PodPlacement& placement, nlohmann::json* pod_spec) {
  if (!placement.node_selector.empty()) (*pod_spec)["nodeSelector"] = placement.node_selector;
  if (!placement.tolerations.is_null()) (*pod_spec)["tolerations"] = placement.tolerations;
  if (!placement.priority_class.empty()) (*pod_spec)["priorityClassName"] = placement.priority_class;
}

nlohmann::json BackupVolume(const PvcDestination& pvc, bool read_only) {
  return {{"name", kBackupVolume}, {"persistentVolumeClaim", {{"claimName", pvc.claim_name}, {"readOnly", read_only}}}};
}

nlohmann::json BackupVolumeMount(bool read_only) {
  return {{"name", kBackupVolume}, {"mountPath", kBackupMount}, {"readOnly", read_only}};
}

}  // namespace cairn::op::resources
