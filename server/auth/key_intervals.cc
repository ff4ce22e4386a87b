#include "server/auth/key_intervals.h"

#include <algorithm>

namespace cairn::auth {
namespace {

// Whether end a reaches at least end b (ends may be unbounded).
bool EndAtLeast(const std::string& a, bool a_unbounded, const std::string& b, bool b_unbounded) {
  if (a_unbounded) return true;
  if (b_unbounded) return false;
  return a >= b;
}

}  // namespace

KeyIntervals::Interval KeyIntervals::FromEtcd(const std::string& key, const std::string& range_end) {
  if (range_end.empty()) return Interval{key, key + '\0', false};  // the smallest key after `key`
  if (range_end == std::string(1, '\0')) return Interval{key, "", true};
  return Interval{key, range_end, false};
}

void KeyIntervals::Add(const std::string& key, const std::string& range_end) {
  Interval ivl = FromEtcd(key, range_end);
  if (!ivl.unbounded_end && ivl.end <= ivl.begin) return;  // grants nothing
  intervals_.push_back(std::move(ivl));
}

void KeyIntervals::Seal() {
  std::sort(intervals_.begin(), intervals_.end(), [](const Interval& a, const Interval& b) { return a.begin < b.begin; });
  std::vector<Interval> merged;
  for (auto& ivl : intervals_) {
    if (!merged.empty() && (merged.back().unbounded_end || ivl.begin <= merged.back().end)) {
      Interval& last = merged.back();
      if (!EndAtLeast(last.end, last.unbounded_end, ivl.end, ivl.unbounded_end)) {
        last.end = std::move(ivl.end);
        last.unbounded_end = ivl.unbounded_end;
      }
      continue;
    }
    merged.push_back(std::move(ivl));
  }
  intervals_ = std::move(merged);
}

bool KeyIntervals::Covers(const std::string& key, const std::string& range_end) const {
  Interval want = FromEtcd(key, range_end);
  // The last interval starting at or before `key` is the only one that can hold it.
  auto after = std::upper_bound(intervals_.begin(), intervals_.end(), want.begin,
                                [](const std::string& k, const Interval& ivl) { return k < ivl.begin; });
  if (after == intervals_.begin()) return false;
  const Interval& holder = *std::prev(after);
  if (!holder.unbounded_end && holder.end <= want.begin) return false;
  if (!want.unbounded_end && want.end <= want.begin) return true;
  return EndAtLeast(holder.end, holder.unbounded_end, want.end, want.unbounded_end);
}

}  // namespace cairn::auth
