// WatchHub: registration and the synced fan-out (the background side is in
// watch_hub_catchup.cc).
#include "server/watch/watch_hub.h"

#include <algorithm>
#include <cstdint>
#include <tuple>

namespace cairn::watch {

WatchHub::WatchHub(mvcc::Store* store, HubOptions options)
    : store_(store), options_(options), revision_(store->CurrentRevision()), thread_([this] { Run(); }) {}

WatchHub::~WatchHub() {
  {
    std::lock_guard lock(mu_);
    CAIRN_CHECK(streams_.empty());
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

int64_t WatchHub::Revision() const {
  std::lock_guard lock(mu_);
  return revision_;
}

WatchHub::Stats WatchHub::GetStats() const {
  std::lock_guard lock(mu_);
  Stats s;
  s.streams = streams_.size();
  s.unsynced = unsynced_.size();
  s.synced = by_uid_.size() - unsynced_.size();
  s.catchup_reads = catchup_reads_;
  return s;
}

WatchHub::Stream& WatchHub::StreamLocked(StreamId id) {
  auto it = streams_.find(id);
  CAIRN_CHECK(it != streams_.end());
  return *it->second;
}

WatchHub::StreamId WatchHub::OpenStream(std::shared_ptr<StreamQueue> queue) {
  std::lock_guard lock(mu_);
  auto s = std::make_unique<Stream>();
  s->id = next_stream_id_++;
  s->queue = std::move(queue);
  const StreamId id = s->id;
  streams_.emplace(id, std::move(s));
  return id;
}

void WatchHub::CloseStream(StreamId id) {
  std::lock_guard lock(mu_);
  Stream& s = StreamLocked(id);
  while (!s.watchers.empty()) Remove(s.watchers.begin()->second.get());
  streams_.erase(id);
}

void WatchHub::Watch(StreamId id, const WatchSpec& spec) {
  std::lock_guard lock(mu_);
  Stream& s = StreamLocked(id);
  Delivery created;
  created.kind = Delivery::Kind::kCreated;
  created.revision = revision_;
  KeyRange range{spec.key, spec.range_end};
  const bool from_key = spec.range_end.size() == 1 && spec.range_end[0] == '\0';
  const char* error = nullptr;
  if (!spec.range_end.empty() && !from_key && spec.key >= spec.range_end) {
    error = kErrEmptyWatcherRange;
  } else if (spec.watch_id != 0 && s.watchers.count(spec.watch_id) != 0) {
    error = kErrDuplicateWatchId;
  }
  if (error != nullptr) {
    created.watch_id = -1;
    created.cancel_reason = error;
    s.queue->Push(std::move(created));
    return;
  }
  int64_t watch_id = spec.watch_id;
  if (watch_id == 0) {
    while (s.watchers.count(s.next_watch_id) != 0) ++s.next_watch_id;
    watch_id = s.next_watch_id++;
  }
  auto w = std::make_unique<Watcher>();
  w->uid = next_uid_++;
  w->stream = &s;
  w->watch_id = watch_id;
  w->spec = spec;
  w->range = std::move(range);
  // etcd treats a start revision <= 0 as "now"; history before 1 does not exist.
  w->next_rev = spec.start_revision > 0 ? spec.start_revision : revision_ + 1;
  created.watch_id = watch_id;
  // Counted before the created response leaves: a client that has seen it may write at
  // once, and that batch must collect events, or the watcher would be demoted and fed
  // from storage for no reason.
  watchers_.fetch_add(1, std::memory_order_relaxed);
  // Queued before the watcher can receive anything, so the created response comes first.
  s.queue->Push(std::move(created));
  Watcher* raw = w.get();
  s.watchers.emplace(watch_id, std::move(w));
  by_uid_.emplace(raw->uid, raw);
  if (raw->next_rev > revision_) {
    raw->synced = true;
    IndexSynced(raw);
  } else {
    unsynced_.insert(raw);
    ++s.unsynced;
    cv_.notify_all();
  }
}

void WatchHub::Refuse(StreamId id, int64_t watch_id, std::string reason) {
  std::lock_guard lock(mu_);
  Delivery refused;
  refused.kind = Delivery::Kind::kCreated;
  refused.revision = revision_;
  refused.watch_id = watch_id;
  refused.cancel_reason = std::move(reason);
  StreamLocked(id).queue->Push(std::move(refused));
}

void WatchHub::Cancel(StreamId id, int64_t watch_id) {
  std::lock_guard lock(mu_);
  Stream& s = StreamLocked(id);
  auto it = s.watchers.find(watch_id);
  if (it == s.watchers.end()) return;
  Remove(it->second.get());
  Delivery d;
  d.kind = Delivery::Kind::kCanceled;
  d.watch_id = watch_id;
  d.revision = revision_;
  s.queue->Push(std::move(d));
  PushProgressIfReady(s);
}

void WatchHub::RequestProgress(StreamId id) {
  std::lock_guard lock(mu_);
  Stream& s = StreamLocked(id);
  s.progress_requested = true;
  PushProgressIfReady(s);
}

void WatchHub::PushProgressIfReady(Stream& s) {
  if (!s.progress_requested || s.unsynced != 0) return;
  s.progress_requested = false;
  Delivery d;
  d.kind = Delivery::Kind::kProgress;
  d.watch_id = -1;
  d.revision = revision_;
  s.queue->Push(std::move(d));
}

void WatchHub::IndexSynced(Watcher* w) {
  if (w->range.single()) {
    synced_keys_[w->range.key].insert(w);
  } else {
    synced_ranges_[w->range].insert(w);
  }
}

void WatchHub::UnindexSynced(Watcher* w) {
  if (w->range.single()) {
    auto it = synced_keys_.find(w->range.key);
    it->second.erase(w);
    if (it->second.empty()) synced_keys_.erase(it);
  } else {
    auto it = synced_ranges_.find(w->range);
    it->second.erase(w);
    if (it->second.empty()) synced_ranges_.erase(it);
  }
}

void WatchHub::Demote(Watcher* w) {
  CAIRN_CHECK(w->synced);
  UnindexSynced(w);
  w->synced = false;
  // A synced watcher has been given everything up to the hub revision.
  w->next_rev = std::max(w->next_rev, revision_ + 1);
  unsynced_.insert(w);
  ++w->stream->unsynced;
  cv_.notify_all();
}

void WatchHub::Rejoin(Watcher* w) {
  CAIRN_CHECK(!w->synced && w->next_rev > revision_);
  unsynced_.erase(w);
  --w->stream->unsynced;
  w->synced = true;
  IndexSynced(w);
  PushProgressIfReady(*w->stream);
}

void WatchHub::Remove(Watcher* w) {
  if (w->synced) {
    UnindexSynced(w);
  } else {
    unsynced_.erase(w);
    --w->stream->unsynced;
  }
  by_uid_.erase(w->uid);
  watchers_.fetch_sub(1, std::memory_order_relaxed);
  w->stream->watchers.erase(w->watch_id);  // destroys *w
}

bool WatchHub::Matches(const Watcher& w, const WatchEvent& ev) const {
  if (ev.kv().mod_revision() < w.next_rev) return false;
  if (ev.type() == mvccpb::Event::PUT) return !w.spec.no_put;
  return !w.spec.no_delete;
}

void WatchHub::OnCommitted(std::vector<mvccpb::Event> events, int64_t revision) {
  std::lock_guard lock(mu_);
  if (revision <= revision_) return;  // nothing new (e.g. a compaction-only batch)
  const bool complete = !events.empty() && events.front().kv().mod_revision() == revision_ + 1 &&
                        events.back().kv().mod_revision() == revision;
  if (!complete) {
    // Events were not collected for some of these revisions: nobody can be fed from
    // memory, so everyone catches up from storage.
    std::vector<Watcher*> synced;
    for (auto& [uid, w] : by_uid_) {
      if (w->synced && w->next_rev <= revision) synced.push_back(w);
    }
    for (Watcher* w : synced) Demote(w);
    revision_ = revision;
    return;
  }
  // Events per synced group (the watchers of one key, or of one range), in revision
  // order; each watcher then takes its group's list, filtered only if it must be.
  struct GroupHit {
    const std::unordered_set<Watcher*>* group;
    std::vector<SharedEvent> events;
  };
  std::vector<GroupHit> hits;
  std::unordered_map<const std::unordered_set<Watcher*>*, size_t> hit_of;
  auto hit = [&](const std::unordered_set<Watcher*>& group, const SharedEvent& ev) {
    auto [it, fresh] = hit_of.try_emplace(&group, hits.size());
    if (fresh) hits.push_back({&group, {}});
    hits[it->second].events.push_back(ev);
  };
  for (mvccpb::Event& e : events) {
    auto ev = std::make_shared<const WatchEvent>(std::move(e));
    if (auto it = synced_keys_.find(ev->kv().key()); it != synced_keys_.end()) hit(it->second, ev);
    for (const auto& [range, group] : synced_ranges_) {
      if (range.Contains(ev->kv().key())) hit(group, ev);
    }
  }
  // Grouped per stream and pushed in one go, so each stream is woken once per batch
  // with all its deliveries queued (its writes then leave in one flush). Watchers of a
  // stream that take a group's events unfiltered, with the same prev_kv and fragment
  // settings, share one delivery.
  struct Batch {
    size_t room = 0;
    std::vector<Delivery> deliveries;
    std::map<std::tuple<size_t, bool, bool>, size_t> shared;  // (hit, prev_kv, fragment) -> delivery
  };
  std::unordered_map<Stream*, Batch> per_stream;
  std::vector<Watcher*> full;
  for (size_t hit_index = 0; hit_index < hits.size(); ++hit_index) {
    const GroupHit& h = hits[hit_index];
    for (Watcher* w : *h.group) {
      const bool takes_all =
          !w->spec.no_put && !w->spec.no_delete && w->next_rev <= h.events.front()->kv().mod_revision();
      std::vector<SharedEvent> filtered;
      if (!takes_all) {
        for (const SharedEvent& ev : h.events) {
          if (Matches(*w, *ev)) filtered.push_back(ev);
        }
        if (filtered.empty()) continue;
      }
      const size_t n = takes_all ? h.events.size() : filtered.size();
      auto [it, fresh] = per_stream.try_emplace(w->stream);
      Batch& batch = it->second;
      if (fresh) batch.room = w->stream->queue->Room();
      if (batch.room < n) {
        full.push_back(w);
        continue;
      }
      // An empty queue takes one delivery of any size; after it the capacity applies.
      const size_t capacity = w->stream->queue->capacity();
      batch.room = batch.room == SIZE_MAX ? (capacity > n ? capacity - n : 0) : batch.room - n;
      w->next_rev = revision + 1;
      w->sent_since_tick = true;
      if (takes_all) {
        auto [shared, first] =
            batch.shared.try_emplace({hit_index, w->spec.prev_kv, w->spec.fragment}, batch.deliveries.size());
        if (!first) {
          batch.deliveries[shared->second].more_watch_ids.push_back(w->watch_id);
          continue;
        }
      }
      Delivery d;
      d.kind = Delivery::Kind::kEvents;
      d.watch_id = w->watch_id;
      d.revision = revision;
      d.prev_kv = w->spec.prev_kv;
      d.fragment = w->spec.fragment;
      d.events = takes_all ? h.events : std::move(filtered);
      batch.deliveries.push_back(std::move(d));
    }
  }
  for (auto& [stream, batch] : per_stream) stream->queue->PushAll(std::move(batch.deliveries));
  // Demoted before revision_ moves: they have everything up to the old revision only.
  for (Watcher* w : full) Demote(w);
  revision_ = revision;
}

}  // namespace cairn::watch
