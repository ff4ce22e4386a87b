#include "server/raft/progress.h"

#include <algorithm>

#include "server/common/status.h"

namespace cairn::raft {

void Inflights::Add(Index index) {
  CAIRN_CHECK(!Full());
  CAIRN_CHECK(in_.empty() || in_.back() < index);
  in_.push_back(index);
}

void Inflights::FreeLE(Index to) {
  while (!in_.empty() && in_.front() <= to) in_.pop_front();
}

void Inflights::FreeFirstOne() {
  if (!in_.empty()) in_.pop_front();
}

void Progress::ResetState(ProgressState s) {
  probe_sent = false;
  pending_snapshot = 0;
  state = s;
  inflights.Reset();
}

void Progress::BecomeProbe() {
  // After a snapshot, resume right after it: the follower has at least that much.
  if (state == ProgressState::kSnapshot) {
    const Index pending = pending_snapshot;
    ResetState(ProgressState::kProbe);
    next = std::max(match + 1, pending + 1);
  } else {
    ResetState(ProgressState::kProbe);
    next = match + 1;
  }
}

void Progress::BecomeReplicate() {
  ResetState(ProgressState::kReplicate);
  next = match + 1;
}

void Progress::BecomeSnapshot(Index snapshot_index) {
  ResetState(ProgressState::kSnapshot);
  pending_snapshot = snapshot_index;
}

bool Progress::MaybeUpdate(Index n) {
  bool updated = false;
  if (match < n) {
    match = n;
    updated = true;
    probe_sent = false;
  }
  next = std::max(next, n + 1);
  return updated;
}

bool Progress::MaybeDecrTo(Index rejected, Index match_hint) {
  if (state == ProgressState::kReplicate) {
    if (rejected <= match) return false;
    next = match + 1;
    return true;
  }
  // In probe state only the answer to the latest probe (sent at next-1) counts.
  if (next - 1 != rejected) return false;
  next = std::max<Index>(std::min(rejected, match_hint + 1), 1);
  probe_sent = false;
  return true;
}

bool Progress::IsPaused() const {
  switch (state) {
    case ProgressState::kProbe:
      return probe_sent;
    case ProgressState::kReplicate:
      return inflights.Full();
    case ProgressState::kSnapshot:
      return true;
  }
  return true;
}

}  // namespace cairn::raft
