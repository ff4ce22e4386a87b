// One full backup, and fetching one back: the two halves of backup and restore that
// touch data. Both stream with bounded memory (a snapshot chunk, a compression buffer and
// one upload part at a time), whatever the store's size.
//
// RunFullBackup: a member's snapshot (etcd's format: store + SHA-256 trailer, checked as
// it passes) -> compression -> ObjectStore::Put under FullBackupObjectName -> the
// manifest beside it, last. Members are tried in the order given until one streams (a
// follower first spares the leader the copy). On any failure after the object was stored
// (the manifest write), the object is deleted again, best effort; a crash instead leaves
// an object without a manifest, which is not a backup (manifest.h).
//
// FetchBackup: the manifest -> the object, its size and SHA-256 compared with the
// manifest's -> decompression -> the snapshot's own trailer checked -> `out`, which
// receives exactly the file `etcdctl snapshot save` would have written. Any mismatch is
// kDataLoss naming what differs; `out` may then hold a partial file the caller discards.
// Thread-safety: no shared state; concurrent calls need their own MembershipClient use
// (which is itself thread-safe) and a thread-safe ObjectStore.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "operator/backup/compression.h"
#include "operator/backup/manifest.h"
#include "operator/backup/object_store.h"
#include "operator/etcd/membership_client.h"

namespace cairn::op::backup {

struct FullBackupRequest {
  std::string cluster;                 // "namespace/name", recorded in the manifest
  std::string version;                 // the cluster's Cairn version, recorded
  std::vector<std::string> endpoints;  // member client URLs, in the order to try
  std::string prefix;                  // object names start with this ("team/ns/cluster/")
  Compression compression = Compression::kZstd;
  std::chrono::seconds limit{3600};    // the snapshot stream must end by then
  std::function<TimePoint()> now = [] { return Clock::now(); };
};

Result<BackupManifest> RunFullBackup(MembershipClient& members, ObjectStore& store, const FullBackupRequest& request);

// The order to ask members for a snapshot: healthy followers first, the leader after
// them, then whatever else may serve: the copy and the stream then cost the leader
// nothing. Member URLs are matched by the member's name as their host's first label
// (<cluster>-<ordinal>.<peer service>...); `urls` as given when `observed` failed.
std::vector<std::string> PreferFollowers(const std::vector<std::string>& urls,
                                         const Result<std::vector<MemberState>>& observed);

Result<BackupManifest> ReadManifest(ObjectStore& store, const std::string& manifest_key);
Result<BackupManifest> FetchBackup(ObjectStore& store, const std::string& manifest_key, const ByteWriter& out);

}  // namespace cairn::op::backup
