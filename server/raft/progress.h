// Progress: the leader's view of one follower's log (match/next) and its replication mode.
//
//  - kProbe: next is a guess; at most one MsgApp in flight until it is answered.
//  - kReplicate: the follower is in sync; entries are streamed optimistically, bounded by
//    the inflight window.
//  - kSnapshot: a snapshot is in flight; nothing else is sent until it is reported.
// Invariant: match < next. Internal. Thread-compatible.
#pragma once

#include "server/raft/inflights.h"
#include "server/raft/types.h"

namespace cairn::raft {

enum class ProgressState { kProbe, kReplicate, kSnapshot };

struct Progress {
  Progress(Index next_index, size_t max_inflight, bool learner)
      : next(next_index), inflights(max_inflight), is_learner(learner) {}

  Index match = 0;
  Index next = 1;
  ProgressState state = ProgressState::kProbe;
  Index pending_snapshot = 0;   // Index of the snapshot in flight (kSnapshot).
  bool recent_active = false;   // Heard from since the last check-quorum round.
  bool probe_sent = false;      // kProbe: a probe is unanswered; pause until it is.
  Inflights inflights;
  bool is_learner = false;

  void BecomeProbe();
  void BecomeReplicate();
  void BecomeSnapshot(Index snapshot_index);
  // The follower acknowledged n. Returns false if the ack is stale.
  bool MaybeUpdate(Index n);
  void OptimisticUpdate(Index n) { next = n + 1; }
  // The follower rejected a MsgApp at `rejected`; match_hint is the leader's guess of the
  // longest possible common prefix. Returns false if the rejection is stale.
  bool MaybeDecrTo(Index rejected, Index match_hint);
  bool IsPaused() const;

 private:
  void ResetState(ProgressState s);
};

}  // namespace cairn::raft
