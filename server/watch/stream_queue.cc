#include "server/watch/stream_queue.h"

#include <cstdint>

namespace cairn::watch {

size_t StreamQueue::Room() const {
  std::lock_guard lock(mu_);
  if (pending_events_ == 0) return SIZE_MAX;
  return pending_events_ >= capacity_ ? 0 : capacity_ - pending_events_;
}

void StreamQueue::Push(Delivery d) {
  std::vector<Delivery> one;
  one.push_back(std::move(d));
  PushAll(std::move(one));
}

void StreamQueue::PushAll(std::vector<Delivery> ds) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (closed_ || ds.empty()) return;
    for (auto& d : ds) {
      pending_events_ += d.QueuedEvents();
      items_.push_back(std::move(d));
    }
    if (!writing_) {
      writing_ = true;
      wake = true;
    }
  }
  if (wake) wake_();
}

StreamQueue::Next StreamQueue::Pop(Delivery* out) {
  std::lock_guard lock(mu_);
  if (closed_) return Next::kFinish;
  if (items_.empty()) {
    writing_ = false;
    return Next::kIdle;
  }
  *out = std::move(items_.front());
  items_.pop_front();
  pending_events_ -= out->QueuedEvents();
  return Next::kDelivery;
}

bool StreamQueue::Close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  items_.clear();
  pending_events_ = 0;
  if (writing_) return false;
  writing_ = true;  // nobody may start a write any more
  return true;
}

size_t StreamQueue::Size() const {
  std::lock_guard lock(mu_);
  return items_.size();
}

size_t StreamQueue::PendingEvents() const {
  std::lock_guard lock(mu_);
  return pending_events_;
}

}  // namespace cairn::watch
