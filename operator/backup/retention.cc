#include "operator/backup/retention.h"

#include <algorithm>
#include <set>
#include <tuple>

namespace cairn::op::backup {

std::vector<std::string> BackupsToDelete(const std::vector<BackupRecord>& backups, const RetentionPolicy& policy,
                                         TimePoint now) {
  const bool keep_last_set = policy.keep_last > 0;
  const bool max_age_set = policy.max_age > std::chrono::seconds::zero();
  if (!keep_last_set && !max_age_set) return {};

  std::vector<const BackupRecord*> newest_first;
  newest_first.reserve(backups.size());
  for (const BackupRecord& b : backups) newest_first.push_back(&b);
  // Full (completed, name, succeeded) key: records differing only in input order compare
  // equal and are interchangeable, so the result is independent of that order.
  std::sort(newest_first.begin(), newest_first.end(), [](const BackupRecord* a, const BackupRecord* b) {
    return std::tie(a->completed, a->name, a->succeeded) > std::tie(b->completed, b->name, b->succeeded);
  });

  std::set<std::string> kept;
  std::vector<const BackupRecord*> doomed;  // newest first
  int64_t successes_seen = 0;
  for (const BackupRecord* b : newest_first) {
    bool keep = false;
    if (b->succeeded) {
      keep = successes_seen == 0 || (keep_last_set && successes_seen < policy.keep_last) ||
             (max_age_set && now - b->completed < policy.max_age);
      ++successes_seen;
    } else {
      keep = successes_seen == 0;
    }
    if (keep) {
      kept.insert(b->name);
    } else {
      doomed.push_back(b);
    }
  }

  std::vector<std::string> out;
  std::set<std::string> emitted;
  for (auto it = doomed.rbegin(); it != doomed.rend(); ++it) {
    const std::string& name = (*it)->name;
    if (kept.count(name) == 0 && emitted.insert(name).second) out.push_back(name);
  }
  return out;
}

}  // namespace cairn::op::backup
