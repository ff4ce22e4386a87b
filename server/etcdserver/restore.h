// Restoring a member's data dir from a snapshot file (what `etcdutl snapshot restore`
// does for etcd): `cairn snapshot restore FILE` with the member's usual flags.
//
// The file is what Maintenance.Snapshot streams (`etcdctl snapshot save`): a Cairn store
// followed by the SHA-256 of it, which must match unless skip_hash_check (then the file
// is a store without the trailer, e.g. a copy of member/mvcc/kv.db). The new data dir
// holds the snapshot's keys, revisions and leases, in a new cluster made of
// --initial-cluster with --initial-cluster-token, exactly as if it had bootstrapped:
// its WAL starts with the bootstrap conf changes, which the store counts as applied,
// and the store carries that membership. Alarms and the old cluster's membership are
// dropped. Every member of the new cluster is restored from the same file.
//
// With `replay_path`, the delta file's revisions are then applied on top of the
// snapshot (replay.h: a point-in-time restore), before the membership is written.
//
// The data dir must not exist yet; on error what was written of it (and of a separate
// WAL dir) is removed again, so a refused restore leaves nothing half-restored.
// Thread-safety: a pure function over files.
#pragma once

#include <string>

#include "server/common/status.h"
#include "server/etcdserver/server.h"

namespace cairn::etcdserver {

Status RestoreSnapshot(const ServerOptions& options, const std::string& snapshot_path, bool skip_hash_check,
                       const std::string& replay_path = "");

}  // namespace cairn::etcdserver
