#include "operator/backup/schedule_plan.h"

#include <algorithm>
#include <ctime>

#include "operator/backup/retention.h"

namespace cairn::op::backup {

SchedulePlan PlanSchedule(const CronSchedule& schedule, const BackupPolicy& policy, TimePoint cluster_created,
                          const std::vector<EtcdBackupObject>& scheduled, TimePoint now) {
  SchedulePlan plan;
  TimePoint last = cluster_created;
  std::vector<BackupRecord> finished;
  for (const auto& b : scheduled) {
    last = std::max(last, b.scheduled_at);
    if (b.phase == BackupPhase::kSucceeded || b.phase == BackupPhase::kFailed) {
      finished.push_back({b.name, b.completed, b.phase == BackupPhase::kSucceeded});
    }
  }
  if (!policy.suspend) plan.create = schedule.MissedRun(last, now);
  plan.expire = BackupsToDelete(finished, RetentionPolicy{policy.keep_last, policy.max_age}, now);
  const TimePoint next = schedule.Next(now);
  auto wait = std::chrono::duration_cast<std::chrono::seconds>(next - now) + std::chrono::seconds(1);
  plan.requeue_after = std::clamp(wait, std::chrono::seconds(1), std::chrono::seconds(3600));
  return plan;
}

std::string ScheduledBackupName(const std::string& cluster, TimePoint slot) {
  std::time_t t = Clock::to_time_t(slot);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[16];
  std::strftime(stamp, sizeof stamp, "%Y%m%d%H%M", &tm);
  return cluster + "-" + stamp;
}

}  // namespace cairn::op::backup
