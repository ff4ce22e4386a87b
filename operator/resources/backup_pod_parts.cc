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

nlohmann::json BackupVolume(const PvcDestination& pvc, bool read_only) {
  return {{"name", kBackupVolume}, {"persistentVolumeClaim", {{"claimName", pvc.claim_name}, {"readOnly", read_only}}}};
}

nlohmann::json BackupVolumeMount(bool read_only) {
  return {{"name", kBackupVolume}, {"mountPath", kBackupMount}, {"readOnly", read_only}};
}

}  // namespace cairn::op::resources
