// WatchEvent: one MVCC event as watchers receive it, with its wire encoding cached so
// that an event delivered to 10,000 watchers is serialized once, not 10,000 times.
// Thread-safety: immutable after construction except for the encoding cache, which is
// filled once per form under mu_ and read lock-free once published (ready_, release/
// acquire); safe to share between threads.
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "etcd/api/mvccpb/kv.pb.h"

namespace cairn::watch {

class WatchEvent {
 public:
  explicit WatchEvent(mvccpb::Event event) : event_(std::move(event)) {}
  WatchEvent(const WatchEvent&) = delete;
  WatchEvent& operator=(const WatchEvent&) = delete;

  const mvccpb::Event& proto() const { return event_; }
  mvccpb::Event::EventType type() const { return event_.type(); }
  const mvccpb::KeyValue& kv() const { return event_.kv(); }
  bool has_prev_kv() const { return event_.has_prev_kv(); }
  const mvccpb::KeyValue& prev_kv() const { return event_.prev_kv(); }

  // The serialized mvccpb.Event, with prev_kv or without it (what a watcher that did
  // not ask for prev_kv gets). Computed on first use, then shared by every watcher.
  const std::string& Encoded(bool with_prev_kv) const;

 private:
  mvccpb::Event event_;
  mutable std::mutex mu_;
  mutable std::atomic<bool> ready_[2] = {false, false};
  mutable std::string encoded_[2];  // [form]; written once under mu_ before ready_[form]
};

}  // namespace cairn::watch
