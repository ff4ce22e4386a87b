// Point-in-time restore from a cluster's backups: which full backup and which delta
// segments (delta_segment.h) bring a new cluster to a target revision or time, and the
// one delta body, cut at the target, that `cairn snapshot restore --replay` applies on
// top of the full backup's snapshot.
//
// The full backup: for a revision target, the one with the highest revision at or below
// it; for a time target, the newest whose manifest says it completed by then (every
// revision it holds was written before that). The segments must then hold every revision
// from the full backup's revision + 1 to the target with no gap:
//   - a revision target beyond what the segments hold is refused (FailedPrecondition,
//     naming where they end): the restore would silently stop short of it;
//   - a time target stops at the last revision the operator saw by that time; if the
//     segments break off before a revision seen after the target, and a later segment
//     exists beyond the break, the history at the target is incomplete and is refused.
// A damaged segment (checksum, decompression, revisions out of sequence, a body that does
// not match its name) is kDataLoss naming the object. Any error leaves `out` partial: the
// caller discards it (fetch-backup never renames it into place).
// Leases: see server/etcdserver/replay.h for what happens to leases granted after the
// snapshot.
// Thread-safety: free functions over a thread-safe ObjectStore.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "operator/backup/delta_segment.h"
#include "operator/backup/manifest.h"
#include "operator/backup/object_store.h"

namespace cairn::op::backup {

struct RestoreTarget {
  int64_t revision = 0;            // > 0: restore exactly to this revision
  std::optional<TimePoint> time;   // otherwise: to the last revision seen at or before this time
};

struct PointInTimePlan {
  std::string full_manifest;  // the full backup's manifest key
  int64_t full_revision = 0;
  std::vector<std::string> segments;  // keys, in revision order, from full_revision + 1 on
  // The first segment after a break in the chain, if any (a time target must not need it).
  std::string after_gap;
};

// `prefix` is the cluster's ("team/ns/cluster/"), as the backups were written under it.
Result<PointInTimePlan> PlanPointInTime(ObjectStore& store, const std::string& prefix, const RestoreTarget& target);

struct ReplayWritten {
  int64_t last_revision = 0;  // what the restored cluster's revision will be
  int64_t last_seen_unix_nanos = 0;  // when the operator saw it (0: no delta replayed)
};
// Fetches and checks the plan's segments in order and writes one delta body from
// full_revision + 1 up to the target to `out`.
Result<ReplayWritten> WriteReplay(ObjectStore& store, const PointInTimePlan& plan, const RestoreTarget& target,
                                  const ByteWriter& out);

}  // namespace cairn::op::backup
