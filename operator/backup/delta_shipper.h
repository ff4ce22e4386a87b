// DeltaShipper: continuous backup of one cluster. It watches every key from where the
// backups in the store end and ships what happened as delta segments (delta_segment.h)
// every `period`, so a restore loses at most one period (plus an upload).
//
// Where it starts (ResumeRevision): one past the newest revision the store already
// covers, the newest segment's last revision or the newest full backup's revision,
// whichever is higher. So an operator restart, a leader change or a broken watch resumes
// exactly where the store ends: no gap, no duplicate. Without any full backup there is
// nothing to continue from (FailedPrecondition).
//
// While running, every revision received must be the next one: a repeat (a member
// re-delivering after a reconnect) is dropped, a skipped revision is kDataLoss and ends
// the run without shipping past the gap. A broken watch (kUnavailable: member down,
// restarted, leader change) is reopened on the next endpoint from the first revision not
// yet received; what was received stays buffered. A compacted start revision
// (kOutOfRange) ends the run after shipping what it holds: the history the next segment
// needs is gone, and only a new full backup closes the gap (the caller takes one; the
// next run then starts after it).
// A segment is cut at each period's end (none when nothing happened) or early once it
// holds `max_segment_bytes` of events, which bounds memory; a failed upload keeps the
// revisions for the next attempt (a period later; stats() names the error meanwhile).
// Thread-safety: one Run at a time per shipper; stats() from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "operator/backup/compression.h"
#include "operator/backup/delta_segment.h"
#include "operator/backup/object_store.h"
#include "operator/etcd/membership_client.h"

namespace cairn::op::backup {

struct DeltaShipperStats {
  int64_t shipped_revision = 0;   // the last revision stored in a segment
  int64_t segments = 0;           // shipped by this shipper
  int64_t reconnects = 0;         // watches reopened after a break
  std::string last_upload_error;  // empty once an upload succeeds again
  // The last period end at which everything the watch had delivered was stored: a
  // restore to that time loses nothing. now() minus this is the delta lag.
  TimePoint synced{};
};

struct DeltaShipperOptions {
  std::string prefix;                  // the cluster's, as for its full backups ("team/ns/cluster/")
  std::vector<std::string> endpoints;  // member client URLs, in the order to try
  Compression compression = Compression::kZstd;
  std::chrono::milliseconds period{10000};
  size_t max_segment_bytes = 16u << 20;
  std::chrono::milliseconds reconnect_backoff{500};
  std::function<TimePoint()> now = [] { return Clock::now(); };
  // Called at the end of each period with the stats (for metrics).
  std::function<void(const DeltaShipperStats&)> on_period_end;
};

// The first revision the store does not cover yet; FailedPrecondition without a full backup.
Result<int64_t> ResumeRevision(ObjectStore& store, const std::string& prefix);

// Segments that only hold revisions at or below `oldest_kept_full_revision` (no restore
// can use them once older full backups are gone): what retention deletes with them.
std::vector<std::string> ExpiredDeltaSegments(const std::vector<std::string>& keys, const std::string& prefix,
                                              int64_t oldest_kept_full_revision);

class DeltaShipper {
 public:
  DeltaShipper(MembershipClient& members, ObjectStore& store, DeltaShipperOptions options);

  // Ships until `stop` returns true (checked at least every 200 ms; what is buffered is
  // shipped first, then OK) or until an error the caller must handle (above).
  Status Run(const std::function<bool()>& stop);

  using Stats = DeltaShipperStats;
  Stats stats() const;

 private:
  Status Ship(std::vector<DeltaRevision>& pending);

  MembershipClient& members_;
  ObjectStore& store_;
  DeltaShipperOptions options_;
  mutable std::mutex mu_;  // guards stats_
  Stats stats_;
};

}  // namespace cairn::op::backup
