// ReadLoop: the member's read barriers (etcd's linearizableReadLoop in v3_server.go).
//
// Linearizable reads: a reader waits for a ReadIndex, the commit index the leader held
// while it confirmed, by a heartbeat round, that it was still leader (Raft thesis
// §6.4), and then until this member has applied up to that index. One ReadIndex round
// is in flight at a time: readers arriving meanwhile wait and share the next round, so
// heavy read load costs one round per batch, not one per read. A round that gets no
// answer (dropped in an election) is asked again after kRetry with the same context.
// Local reads (serializable): a reader waits only until this member has applied a
// given index, without a Raft round.
//
// Unlike etcd's, the loop has no thread of its own: the Raft node's thread issues the
// rounds (IssueRound) and hands back their answers (OnReadState) as part of its Ready
// loop, and the applier releases readers as it applies (OnApplied), so a read costs
// no thread hop beyond those a write costs.
//
// Thread-safety: every method may be called from any thread; mu_ guards all state.
// `done` callbacks run exactly once, without mu_ held, on the calling thread of the
// method that settles them (the Raft node's or the applier's, usually); they must not
// block. After Stop() every reader, queued or new, gets ErrStopped.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "server/common/status.h"

namespace cairn::etcdserver {

class ReadLoop {
 public:
  using Clock = std::chrono::steady_clock;
  using Done = std::function<void(Status)>;
  // Asks the Raft node for a ReadIndex answered with this context (RawNode::ReadIndex).
  using RequestReadIndex = std::function<void(std::string ctx)>;
  static constexpr auto kRetry = std::chrono::milliseconds(500);

  // `applied`: the index this member has applied and made visible in the store; read
  // with acquire ordering. `wake_raft`: asks the Raft node's thread to come round to
  // NeedsRound()/IssueRound() soon; called without mu_ held.
  ReadLoop(const std::atomic<uint64_t>* applied, std::function<void()> wake_raft);
  ReadLoop(const ReadLoop&) = delete;
  ReadLoop& operator=(const ReadLoop&) = delete;

  // A linearizable read: `done` runs once this member applied everything committed
  // before the call, with ErrTimeout once `deadline` passes while its round is
  // unanswered, or with ErrStopped.
  void Add(Clock::time_point deadline, Done done);
  // A local read: `done` runs once the applied index reaches `index` (at once, on the
  // caller's thread, if it already has).
  void AwaitApplied(uint64_t index, Done done);

  // True when readers wait for a round and none is in flight.
  bool NeedsRound() const;
  // Starts a round for the waiting readers if none is in flight, and asks again for a
  // round unanswered since kRetry.
  void IssueRound(Clock::time_point now, const RequestReadIndex& read_index);
  // The answer to a round: its readers now wait for `index` to be applied.
  void OnReadState(const std::string& ctx, uint64_t index);
  // Readers of the unanswered round whose deadline is at or before `now` get ErrTimeout.
  void ExpireOverdue(Clock::time_point now);
  // Releases the readers whose index is at or below `applied`.
  void OnApplied(uint64_t applied);
  // Fails every reader with ErrStopped, now and from then on. Idempotent.
  void Stop();

 private:
  struct Reader {
    uint64_t index = 0;  // the applied index it waits for, once known
    Clock::time_point deadline;
    Done done;
  };
  struct Round {
    uint64_t ctx = 0;
    std::vector<Reader> readers;
    Clock::time_point requested_at;
  };

  // Takes the readers waiting for an index at or below `applied`. REQUIRES: mu_ held.
  std::vector<Reader> TakeReleased(uint64_t applied);

  const std::atomic<uint64_t>* const applied_;
  const std::function<void()> wake_raft_;

  mutable std::mutex mu_;
  bool stopped_ = false;                       // guarded by mu_
  std::vector<Reader> waiting_for_round_;      // guarded by mu_
  std::optional<Round> round_;                 // guarded by mu_; the unanswered round
  std::vector<Reader> waiting_for_apply_;      // guarded by mu_
  uint64_t next_ctx_ = 1;                      // guarded by mu_
};

}  // namespace cairn::etcdserver
