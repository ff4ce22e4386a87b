// WatchHub's background thread: catching unsynced watchers up from storage, and the
// periodic progress notifications.
//
// A round plans under mu_ (which watchers, from which revision), reads without mu_ on
// one ReadTxn snapshot (so OnCommitted is never held up by SQLite), then delivers under
// mu_, skipping any watcher that was canceled or moved on meanwhile.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <utility>

#include "server/mvcc/history_reader.h"
#include "server/watch/watch_hub.h"

namespace cairn::watch {

struct WatchHub::CatchUpJob {
  uint64_t uid;
  int64_t from;
};

void WatchHub::Run() {
  auto next_tick = std::chrono::steady_clock::now() + options_.progress_interval;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const bool pending = !unsynced_.empty();
    auto wake_at = next_tick;
    if (pending) wake_at = std::min(wake_at, std::chrono::steady_clock::now() + options_.catchup_retry);
    cv_.wait_until(lock, wake_at);
    if (stopping_) break;
    if (std::chrono::steady_clock::now() >= next_tick) {
      ProgressTick();
      next_tick = std::chrono::steady_clock::now() + options_.progress_interval;
    }
    if (!unsynced_.empty()) {
      lock.unlock();
      CatchUpRound();
      lock.lock();
    }
  }
}

void WatchHub::ProgressTick() {
  for (auto& [uid, w] : by_uid_) {
    if (w->spec.progress_notify && w->synced && !w->sent_since_tick) {
      Delivery d;
      d.kind = Delivery::Kind::kProgress;
      d.watch_id = w->watch_id;
      d.revision = revision_;
      w->stream->queue->Push(std::move(d));
    }
    w->sent_since_tick = false;
  }
}

void WatchHub::CatchUpRound() {
  // Watchers sharing a range and a start revision share one read.
  std::map<std::pair<KeyRange, int64_t>, std::vector<uint64_t>> groups;
  // Reads stop at the hub revision even when the store is ahead of it: the newer
  // revisions reach the hub through OnCommitted, and a progress response (always at the
  // hub revision) must never be below an event already delivered.
  int64_t hub_rev = 0;
  {
    std::lock_guard lock(mu_);
    hub_rev = revision_;
    for (Watcher* w : unsynced_) {
      if (w->stream->queue->Room() == 0) continue;  // retried once the stream drains
      groups[{w->range, w->next_rev}].push_back(w->uid);
    }
  }
  if (groups.empty()) return;
  struct ReadResult {
    bool compacted = false;
    bool failed = false;  // not compaction: try again next round
    int64_t to = 0;
    std::vector<SharedEvent> events;
  };
  std::map<std::pair<KeyRange, int64_t>, ReadResult> results;
  int64_t compact_rev = 0;
  {
    mvcc::ReadTxn txn = store_->BeginRead();
    for (const auto& [key, uids] : groups) {
      const auto& [range, from] = key;
      ReadResult& r = results[key];
      r.to = std::min({txn.Revision(), hub_rev, from + options_.max_catchup_revisions - 1});
      std::vector<mvccpb::Event> events;
      Status st = options_.read_history(txn, range.key, range.range_end, from, r.to, &events);
      if (!st.ok()) {
        // Only compaction ends a watch (with its revision, as etcd reports it); a failed
        // read is not the client's problem and must not look like one.
        r.compacted = st.code() == StatusCode::kOutOfRange;
        r.failed = !r.compacted;
        const auto now = std::chrono::steady_clock::now();
        if (r.failed && now - last_read_error_log_ >= std::chrono::seconds(1)) {  // retries come every few ms
          last_read_error_log_ = now;
          spdlog::error("watch catch-up read of revisions {}..{} failed, retrying: {}", from, r.to, st.message());
        }
        continue;
      }
      r.events.reserve(events.size());
      for (auto& e : events) r.events.push_back(std::make_shared<const WatchEvent>(std::move(e)));
    }
    // Read last: a compaction applied while the reads ran may be what failed them.
    compact_rev = txn.CompactRevision();
  }
  std::lock_guard lock(mu_);
  catchup_reads_ += results.size();
  for (const auto& [key, uids] : groups) {
    const ReadResult& r = results[key];
    for (uint64_t uid : uids) {
      auto it = by_uid_.find(uid);
      if (it == by_uid_.end()) continue;
      Watcher* w = it->second;
      if (w->synced || w->next_rev != key.second) continue;
      Stream& s = *w->stream;
      if (r.failed) continue;  // still unsynced: the next round reads again
      if (r.compacted) {
        Delivery d;
        d.kind = Delivery::Kind::kCompacted;
        d.watch_id = w->watch_id;
        d.compact_revision = compact_rev;
        Remove(w);
        s.queue->Push(std::move(d));
        PushProgressIfReady(s);
        continue;
      }
      // Queue whole revisions while they fit in the stream's capacity; an empty queue
      // takes at least one revision, however large, so catch-up always progresses.
      const bool queue_empty = s.queue->PendingEvents() == 0;
      size_t room = std::min(s.queue->Room(), s.queue->capacity());
      Delivery d;
      d.kind = Delivery::Kind::kEvents;
      d.watch_id = w->watch_id;
      d.prev_kv = w->spec.prev_kv;
      d.fragment = w->spec.fragment;
      int64_t covered = r.to;
      size_t i = 0;
      while (i < r.events.size()) {
        const int64_t rev = r.events[i]->kv().mod_revision();
        size_t j = i;
        std::vector<SharedEvent> revision_events;
        for (; j < r.events.size() && r.events[j]->kv().mod_revision() == rev; ++j) {
          if (Matches(*w, *r.events[j])) revision_events.push_back(r.events[j]);
        }
        const bool first_into_empty_queue = queue_empty && d.events.empty() && covered == r.to && i == 0;
        if (revision_events.size() > room && !first_into_empty_queue) {
          covered = rev - 1;
          break;
        }
        room -= std::min(room, revision_events.size());
        for (auto& e : revision_events) d.events.push_back(std::move(e));
        i = j;
      }
      if (covered < w->next_rev) continue;  // nothing fit this round
      if (!d.events.empty()) {
        d.revision = covered;
        s.queue->Push(std::move(d));
        w->sent_since_tick = true;
      }
      w->next_rev = covered + 1;
      if (w->next_rev > revision_) Rejoin(w);
    }
  }
}

}  // namespace cairn::watch
