#include "server/mvcc/checkpointer.h"

#include <sqlite3.h>

#include <cstdio>

namespace cairn::mvcc {

Checkpointer::Checkpointer(Db db, int threshold_pages)
    : db_(std::move(db)), threshold_pages_(threshold_pages), thread_([this] { Run(); }) {}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

bool Checkpointer::Nudge(int wal_pages) {
  if (wal_pages < threshold_pages_) return false;
  {
    std::lock_guard lock(mu_);
    wanted_ = true;
  }
  cv_.notify_one();
  return wal_pages >= kBackpressureFactor * threshold_pages_;
}

int Checkpointer::checkpoints_run() const {
  std::lock_guard lock(mu_);
  return runs_;
}

void Checkpointer::Run() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || wanted_; });
      if (stopping_) return;
      wanted_ = false;
    }
    int log_frames = 0;
    int checkpointed = 0;
    const int rc = sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &checkpointed);
    // BUSY only means another checkpoint is running; the next nudge retries.
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      std::fprintf(stderr, "cairn: mvcc background checkpoint failed: %s\n", sqlite3_errmsg(db_.get()));
    }
    std::lock_guard lock(mu_);
    ++runs_;
  }
}

}  // namespace cairn::mvcc
