// Backup retention: which finished backups a policy lets the operator delete. Pure: the
// caller supplies the backups and `now`, and deletes what comes back.
//
// Rules, in order of precedence:
//  1. The newest successful backup is never deleted, whatever the policy says: it is the
//     only thing a restore can use, and a too-tight max_age must not leave the cluster with
//     none.
//  2. With neither keep_last nor max_age set (both <= 0), nothing is deleted: an unset
//     policy means "keep everything", never "keep nothing".
//  3. A successful backup is kept if it is among the keep_last newest successful ones, OR
//     younger than max_age (now - completed < max_age; future-dated ones count as young).
//     Otherwise it is deleted.
//  4. A failed backup is deleted once a newer successful backup exists: it holds no data,
//     and the newer success shows whatever broke it is fixed. Failed backups newer than
//     every success are kept for diagnosis, regardless of keep_last and max_age (so while
//     backups keep failing they accumulate; the scheduler is expected to surface that).
//
// "Newer" orders by completion time, ties broken by name (the greater name is newer:
// generated names carry a timestamp suffix), so the outcome never depends on input order.
//
// Callers pass finished backups only; one still running has no completion time and must
// not be listed. Names are expected to be unique (they are Kubernetes object names); if one
// is not, a name is returned only when no record carrying it is kept, so a duplicate can
// never take the newest good backup down with it.
//
// Thread-safety: a pure function of its arguments.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "operator/reconcile/observed.h"

namespace cairn::op::backup {

struct BackupRecord {
  std::string name;
  TimePoint completed{};
  bool succeeded = false;
};

struct RetentionPolicy {
  int32_t keep_last = 0;           // <= 0: unset
  std::chrono::seconds max_age{0};  // <= 0: unset
};

// Names to delete, oldest first (an interrupted deletion pass leaves the newest behind),
// each at most once.
std::vector<std::string> BackupsToDelete(const std::vector<BackupRecord>& backups, const RetentionPolicy& policy,
                                         TimePoint now);

}  // namespace cairn::op::backup
