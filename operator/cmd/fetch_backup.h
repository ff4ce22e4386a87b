// `cairn-operator fetch-backup`: downloads one backup from S3-compatible storage (or
// reads it from a directory: a mounted PersistentVolumeClaim, --dir) into a
// file that `cairn snapshot restore` (or `etcdutl snapshot restore`) takes, checking the
// object against its manifest and the snapshot against its own SHA-256 on the way
// (backup/full_backup.h). The file appears only once complete and verified: it is
// written beside its name and renamed. Credentials come from the environment as for
// the AWS CLI: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optional AWS_SESSION_TOKEN.
// With a target (--to-revision / --to-time) it fetches a point in time instead
// (backup/point_in_time.h): the newest full backup at or before it, plus one delta file
// cut at the target for `cairn snapshot restore --replay`; both files appear together,
// only once everything was fetched and checked.
// Exit status: 0 fetched; 1 the backup is damaged or missing; 2 bad usage.
#pragma once

namespace cairn::op {

int FetchBackupMain(int argc, char** argv);

}  // namespace cairn::op
