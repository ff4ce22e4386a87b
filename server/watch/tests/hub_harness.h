// Test harness for the watch hub: a real MVCC store, a hub fed the way the apply loop
// feeds it, and test streams whose deliveries the test drains by hand (so a test can
// play a slow consumer). Test-only; the harness itself is driven from one thread.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server/mvcc/apply_batch.h"
#include "server/mvcc/tests/store_fixture.h"
#include "server/watch/watch_hub.h"

namespace cairn::watch::testing {

struct Op {
  enum Kind { kPut, kDelete } kind;
  std::string key;
  std::string value_or_end;
};

inline Op OpPut(std::string k, std::string v) { return {Op::kPut, std::move(k), std::move(v)}; }
inline Op OpDel(std::string k, std::string end = "") { return {Op::kDelete, std::move(k), std::move(end)}; }

// Applies `ops` as one request in one batch (events collected only when the hub wants
// them, as the apply loop does) and reports the batch to the hub.
inline int64_t Apply(mvcc::Store& store, WatchHub& hub, const std::vector<Op>& ops) {
  mvcc::ApplyBatch b(store);
  if (hub.WantsEvents()) b.EnableEvents();
  {
    mvcc::WriteTxn w(b);
    for (const Op& op : ops) {
      if (op.kind == Op::kPut) {
        etcdserverpb::PutRequest p;
        p.set_key(op.key);
        p.set_value(op.value_or_end);
        EXPECT_TRUE(w.Put(p, nullptr).ok());
      } else {
        w.DeleteRange(op.key, op.value_or_end, nullptr);
      }
    }
    w.Commit();
  }
  b.Commit(store.AppliedIndex() + 1);
  hub.OnCommitted(b.TakeEvents(), store.CurrentRevision());
  return store.CurrentRevision();
}

// Whether `d` is meant for watcher `id` (its own, or one it shares).
inline bool Addresses(const Delivery& d, int64_t id) {
  return d.watch_id == id || std::find(d.more_watch_ids.begin(), d.more_watch_ids.end(), id) != d.more_watch_ids.end();
}

class TestStream {
 public:
  TestStream(WatchHub& hub, size_t capacity)
      : hub_(hub), queue_(std::make_shared<StreamQueue>(capacity, [] {})), id_(hub.OpenStream(queue_)) {}
  ~TestStream() { hub_.CloseStream(id_); }

  WatchHub::StreamId id() const { return id_; }
  StreamQueue& queue() { return *queue_; }
  // Moves up to `max` queued deliveries into got().
  void Drain(size_t max = SIZE_MAX) {
    Delivery d;
    for (size_t n = 0; n < max && queue_->Pop(&d) == StreamQueue::Next::kDelivery; ++n) got_.push_back(std::move(d));
  }
  std::vector<Delivery>& got() { return got_; }
  // Events delivered to `watch_id` so far, as "type:key@rev".
  std::vector<std::string> Events(int64_t watch_id) const {
    std::vector<std::string> out;
    for (const Delivery& d : got_) {
      if (d.kind != Delivery::Kind::kEvents || !Addresses(d, watch_id)) continue;
      for (const auto& e : d.events) {
        out.push_back(std::string(e->type() == mvccpb::Event::PUT ? "P:" : "D:") + e->kv().key() + "@" +
                      std::to_string(e->kv().mod_revision()));
      }
    }
    return out;
  }

 private:
  WatchHub& hub_;
  std::shared_ptr<StreamQueue> queue_;
  WatchHub::StreamId id_;
  std::vector<Delivery> got_;
};

// Polls `pred` (draining nothing itself) until true or 10 s pass.
inline bool Eventually(const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return pred();
}

inline WatchSpec Spec(std::string key, std::string end = "", int64_t start = 0) {
  WatchSpec s;
  s.key = std::move(key);
  s.range_end = std::move(end);
  s.start_revision = start;
  return s;
}

}  // namespace cairn::watch::testing
