// StreamQueue: the bounded buffer between the watch hub (producer) and one gRPC watch
// stream (consumer), with a single-writer handshake so the stream never has two writes
// in flight and never misses a wake-up.
//
// Producer side (the hub, always under its own mutex): Room() tells how many events
// fit; Push() appends and, if the consumer was idle, runs the wake callback (on the
// pushing thread) so it starts writing. Control deliveries (created, canceled,
// progress) are always accepted: they are small and must never be lost.
// Consumer side: the thread that owns the write (the one woken, or the one whose write
// just completed) calls Next(): it returns the next delivery, or kIdle (ownership
// released; the next Push wakes someone), or kFinish (the queue is closed: the owner
// must end the stream, exactly once).
// Close() stops further pushes; it returns true when nobody owns the write, in which
// case the caller must end the stream itself.
// Thread-safety: every member is guarded by mu_. Lock order: hub mutex -> mu_; the wake
// callback runs without mu_ held.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "server/watch/watch_types.h"

namespace cairn::watch {

class StreamQueue {
 public:
  enum class Next { kDelivery, kIdle, kFinish };

  StreamQueue(size_t capacity_events, std::function<void()> wake)
      : capacity_(capacity_events), wake_(std::move(wake)) {}
  StreamQueue(const StreamQueue&) = delete;
  StreamQueue& operator=(const StreamQueue&) = delete;

  // How many more events fit. An empty queue takes any number (SIZE_MAX), so one huge
  // revision can always get through.
  size_t Room() const;
  size_t capacity() const { return capacity_; }
  void Push(Delivery d);
  // Appends all at once and wakes the consumer at most once: the consumer then sees
  // the whole batch queued and can let gRPC coalesce the writes into one flush.
  void PushAll(std::vector<Delivery> ds);

  Next Pop(Delivery* out);
  bool Close();

  size_t PendingEvents() const;
  // Deliveries queued (not yet popped).
  size_t Size() const;

 private:
  const size_t capacity_;
  const std::function<void()> wake_;
  mutable std::mutex mu_;
  std::deque<Delivery> items_;  // guarded by mu_
  size_t pending_events_ = 0;   // guarded by mu_; sum of items_[i].QueuedEvents()
  bool writing_ = false;        // guarded by mu_; a consumer owns the write
  bool closed_ = false;         // guarded by mu_
};

}  // namespace cairn::watch
