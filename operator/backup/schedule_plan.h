// PlanSchedule: the scheduled-backup step for one cluster with spec.backup, as a pure
// function of the policy, the EtcdBackups the schedule created before, and now:
//   * create: the latest cron slot in (last slot that has a backup, now] — one catch-up
//     backup after an outage, not one per missed slot. Before the first backup, "last" is
//     the cluster's creation time. Nothing while suspended.
//   * expire: finished scheduled backups the retention policy (retention.h) lets go; the
//     caller deletes their objects (manifest first), then the EtcdBackup. Retention runs
//     while suspended too. Backups still Pending or Running are never expired.
//   * requeue_after: until the next slot (at least 1 s, at most 1 h, so a changed policy
//     or a clock jump is picked up).
// The slot is also the created EtcdBackup's name ("<cluster>-<yyyymmddhhmm>", UTC), so a
// retry after a crash creates the same object, which the API server refuses as a
// duplicate instead of running the slot twice.
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "operator/api/backup_spec.h"
#include "operator/backup/cron_schedule.h"

namespace cairn::op::backup {

struct SchedulePlan {
  std::optional<TimePoint> create;
  std::vector<std::string> expire;
  std::chrono::seconds requeue_after{3600};
};

SchedulePlan PlanSchedule(const CronSchedule& schedule, const BackupPolicy& policy, TimePoint cluster_created,
                          const std::vector<EtcdBackupObject>& scheduled, TimePoint now);

std::string ScheduledBackupName(const std::string& cluster, TimePoint slot);

}  // namespace cairn::op::backup
