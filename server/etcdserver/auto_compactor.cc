#include "server/etcdserver/auto_compactor.h"

#include <algorithm>

namespace cairn::etcdserver {

AutoCompactor::AutoCompactor(Mode mode, std::chrono::nanoseconds period, int64_t revisions, Clock::time_point now)
    : mode_(mode),
      period_(std::chrono::duration_cast<Clock::duration>(period)),
      revisions_(revisions),
      next_record_(now),
      last_success_(now),
      wait_(mode == Mode::kPeriodic ? period_ : Clock::duration(kRevisionInterval)) {}

bool AutoCompactor::Enabled() const {
  return mode_ == Mode::kPeriodic ? period_ > Clock::duration::zero() : revisions_ > 0;
}

AutoCompactor::Clock::duration AutoCompactor::CompactInterval() const {
  return std::min<Clock::duration>(period_, std::chrono::hours(1));
}

AutoCompactor::Clock::duration AutoCompactor::RecordInterval() const { return CompactInterval() / 10; }

std::optional<int64_t> AutoCompactor::Due(Clock::time_point now, int64_t current_revision, bool leader) {
  if (mode_ == Mode::kRevision) {
    if (now - last_success_ < wait_) return std::nullopt;
    last_success_ = now;  // tried or not, the next look is an interval away
    const int64_t target = current_revision - revisions_;
    if (!leader || target <= 0 || target == last_compacted_) return std::nullopt;
    return target;
  }
  if (now >= next_record_) {
    records_.push_back(current_revision);
    // One record per interval, covering the period: the oldest is the revision a period ago.
    const size_t keep = static_cast<size_t>(period_ / RecordInterval()) + 1;
    while (records_.size() > keep) records_.pop_front();
    next_record_ = now + RecordInterval();
  }
  if (!leader || now - last_success_ < wait_ || records_.empty()) return std::nullopt;
  if (records_.front() <= last_compacted_) return std::nullopt;
  return records_.front();
}

void AutoCompactor::Compacted(Clock::time_point now, int64_t revision) {
  last_compacted_ = std::max(last_compacted_, revision);
  last_success_ = now;
  if (mode_ == Mode::kPeriodic) wait_ = CompactInterval();
}

}  // namespace cairn::etcdserver
