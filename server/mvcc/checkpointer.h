// Checkpointer: copies SQLite's WAL back into the database file on its own thread and
// connection, so the apply thread never pays for a checkpoint (and its fsync) inline.
//
// The writer connection's WAL hook (see Store) calls Nudge() with the WAL size after
// each commit; past the threshold the checkpointer runs a PASSIVE checkpoint, which
// never blocks the writer or readers. A writer that outpaces it would grow the WAL
// without bound, so past kBackpressureFactor x threshold Nudge() reports that the
// writer must checkpoint inline. Durability is unaffected: the Raft WAL, not
// SQLite's, is the source of truth until Store::Checkpoint() makes the store durable.
// Thread-safety: Nudge may be called from any thread; the destructor stops the thread.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "server/common/status.h"
#include "server/mvcc/sqlite.h"

namespace cairn::mvcc {

class Checkpointer {
 public:
  // REQUIRES: `db` is a read-write connection to the store's database in WAL mode.
  Checkpointer(Db db, int threshold_pages);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  static constexpr int kBackpressureFactor = 8;

  // Returns true when the caller (the writer) must checkpoint itself now.
  [[nodiscard]] bool Nudge(int wal_pages);
  int checkpoints_run() const;

 private:
  void Run();

  Db db_;  // used only by thread_
  const int threshold_pages_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool wanted_ = false;    // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  int runs_ = 0;           // guarded by mu_
  std::thread thread_;
};

}  // namespace cairn::mvcc
