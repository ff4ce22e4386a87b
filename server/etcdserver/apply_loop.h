// ApplyLoop: the thread that applies committed entries (EntryApplier), fed by the Raft
// node through a queue. Batches queued while one is being applied are applied together,
// in one SQLite transaction: under load a commit serves many Ready rounds. Between
// batches the loop installs a snapshot received from the leader, runs maintenance that
// must not interleave with applying (defragmentation), and advances a pending physical
// compaction in small steps (on its own, every few milliseconds, when no writes come).
//
// Thread-safety: Enqueue, Install and Defragment may be called from any thread; mu_
// guards the queue and the work waiting for the loop. Only the loop's thread touches
// the EntryApplier once Start() ran.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/etcdserver/entry_applier.h"

namespace cairn::etcdserver {

class ApplyLoop {
 public:
  // `store` is the one `applier` writes (for its pending compaction); neither is owned.
  ApplyLoop(EntryApplier* applier, mvcc::Store* store);
  ~ApplyLoop();
  ApplyLoop(const ApplyLoop&) = delete;
  ApplyLoop& operator=(const ApplyLoop&) = delete;

  void Start();
  // Committed entries, in log order across calls.
  void Enqueue(std::vector<raft::Entry> committed);
  // Installs the store snapshot at `path` between batches; returns once it is installed,
  // or ErrStopped.
  Status Install(const std::string& path);
  // Defragments the store between batches (writes wait, reads do not); returns once done.
  Status Defragment();
  // Applies what is queued, fails waiting work with ErrStopped, and joins the thread.
  // Idempotent.
  void Stop();

 private:
  // Work for the loop between batches, called with whether the loop is stopping (then
  // it must only report that).
  using Task = std::function<void(bool stopping)>;
  void Run();
  // Runs `task` between batches and returns what it reports.
  Status RunBetweenBatches(std::function<Status()> task);

  EntryApplier* const applier_;
  mvcc::Store* const store_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<raft::Entry>> queue_;  // guarded by mu_
  std::vector<Task> tasks_;                     // guarded by mu_
  bool stopping_ = false;                       // guarded by mu_
  std::thread thread_;
};

}  // namespace cairn::etcdserver
