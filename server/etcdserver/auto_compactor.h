// AutoCompactor: etcd's --auto-compaction-mode/--auto-compaction-retention policy,
// as a pure state machine over an injected clock (no threads, no timers).
//
// Periodic (retention = a duration P): every P/10 (at most 6 minutes apart) it records
// the current revision and keeps the records of the last P; once P has passed since
// the start or since the last compaction (then every min(P, 1h)) it compacts to the
// oldest record, i.e. keeps about P of history — etcd 3.4's periodic compactor.
// Revision (retention = a count N): every 5 minutes it compacts to current - N when
// that is positive and new.
// Only a leader compacts (etcd pauses the compactor on followers); the driver asks
// Due() on every tick and proposes the compaction it returns.
// Thread-safety: none; one driver thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

namespace cairn::etcdserver {

class AutoCompactor {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Mode { kPeriodic, kRevision };
  static constexpr std::chrono::minutes kRevisionInterval{5};

  // `period` in periodic mode, `revisions` in revision mode; zero disables.
  AutoCompactor(Mode mode, std::chrono::nanoseconds period, int64_t revisions, Clock::time_point now);

  bool Enabled() const;
  // The revision to compact to now, if any. REQUIRES: Enabled().
  std::optional<int64_t> Due(Clock::time_point now, int64_t current_revision, bool leader);
  // The compaction Due() asked for succeeded (or the revision was already compacted).
  void Compacted(Clock::time_point now, int64_t revision);

 private:
  Clock::duration RecordInterval() const;
  Clock::duration CompactInterval() const;

  const Mode mode_;
  const Clock::duration period_;
  const int64_t revisions_;
  Clock::time_point next_record_;
  Clock::time_point last_success_;
  Clock::duration wait_;  // since last_success_ before the next compaction
  std::deque<int64_t> records_;  // periodic: revisions seen, oldest first
  int64_t last_compacted_ = 0;
};

}  // namespace cairn::etcdserver
