// `cairn-operator backup-to-dir`: one full backup into a directory (a mounted
// PersistentVolumeClaim), run by the backup Pod the BackupController creates for a pvc
// destination (resources/backup_pod.h), since the operator cannot mount the claim itself.
// In order:
//   1. removes the objects under --prefix left without a manifest by a run cut off
//      (backup/housekeeping.h); the controller runs one backup Pod per cluster at a time,
//      so none of them is in flight;
//   2. streams a member's snapshot into the directory with its manifest, exactly as the
//      operator does to S3 (backup/full_backup.h; the directory store renames after fsync);
//   3. only then deletes each --expire'd full backup (manifest first): a failed run
//      changes nothing but what step 1 removed. A failure here leaves the new backup
//      good: it is reported as "expireError" beside the keys that did expire.
// The result goes to --result-file (default /dev/termination-log, which the kubelet
// copies into the Pod's status, where the controller reads it): one JSON line,
// {"manifest": <BackupManifest JSON>, "expired": [keys], "expireError"?} on success, {"error": text}
// otherwise. Exit status: 0 stored; 1 the backup failed; 2 bad usage.
#pragma once

namespace cairn::op {

int BackupToDirMain(int argc, char** argv);

}  // namespace cairn::op
