// WatchHub: the watchable store. Fans committed MVCC events out to watchers and lets
// watchers that start in the past, or fall behind, catch up from storage.
//
// Design (etcd's synced/unsynced split):
//   * A synced watcher has had every matching event up to the hub revision (the last
//     revision passed to OnCommitted) queued to its stream. OnCommitted() hands it the
//     new events directly, all of a batch in one Delivery, so all events of a revision
//     arrive together; watchers of a stream that get the same events with the same
//     settings share that Delivery. Synced watchers are indexed by exact key and by
//     distinct range, so a batch costs O(events x (distinct ranges + matches)).
//   * If the stream's bounded queue has no room, the watcher is demoted to unsynced;
//     OnCommitted never waits for a consumer. Watchers starting at or below the hub
//     revision start unsynced.
//   * A background thread reads the history of unsynced watchers (HistoryReader, on a
//     ReadTxn snapshot, at most max_catchup_revisions per read), queues it as far as the
//     stream has room (whole revisions only) and moves a watcher back to synced once it
//     has everything up to the hub revision. If the history it needs is compacted, the
//     watcher is canceled with compact_revision (etcd's compacted watch).
//   * Every watcher has next_rev: the first revision it has not been given. Deliveries
//     only ever carry events >= next_rev, and next_rev only grows, so events are in
//     order, never duplicated and never skipped.
//   * Progress: the same thread sends etcd's periodic progress notifications (watchers
//     with progress_notify, synced, that got no events during the last interval), and
//     RequestProgress() answers once every watcher of the stream is synced.
// OnCommitted() must see every revision: if a batch's events are missing (the apply
// loop did not collect them) synced watchers are demoted and catch up from storage.
//
// Thread-safety: all public methods are thread-safe. mu_ guards every member below it
// in the class; streams' queues are pushed to only under mu_ (lock order: mu_ -> the
// queue's mutex; the queue's wake callback runs under mu_, so it must not call back
// into the hub). Stream/watcher lifetime: CloseStream() removes everything of a stream;
// after it returns the hub never touches that stream's queue again.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "etcd/api/mvccpb/kv.pb.h"
#include "server/mvcc/history_reader.h"
#include "server/mvcc/store.h"
#include "server/watch/key_range.h"
#include "server/watch/stream_queue.h"
#include "server/watch/watch_types.h"

namespace cairn::watch {

struct HubOptions {
  // etcd's --experimental-watch-progress-notify-interval.
  std::chrono::milliseconds progress_interval{std::chrono::minutes(10)};
  // Revisions read from storage per catch-up read of one watcher.
  int64_t max_catchup_revisions = 10000;
  // How often unsynced watchers are retried while their stream is full (or after a
  // failed read).
  std::chrono::milliseconds catchup_retry{10};
  // Reads history for catch-up; a seam so tests can make a read fail. Only OutOfRange
  // (compacted) cancels watchers; any other error leaves them unsynced, to be retried.
  std::function<Status(mvcc::ReadTxn&, std::string_view key, std::string_view range_end, int64_t from, int64_t to,
                       std::vector<mvccpb::Event>* out)>
      read_history = mvcc::HistoryReader::Read;
};

// etcd's error texts for a watch that cannot be created.
inline constexpr const char* kErrEmptyWatcherRange = "mvcc: watcher range is empty";
inline constexpr const char* kErrDuplicateWatchId = "mvcc: duplicate watch ID provided on the WatchStream";

class WatchHub {
 public:
  using StreamId = uint64_t;

  struct Stats {
    size_t streams = 0;
    size_t synced = 0;
    size_t unsynced = 0;
    uint64_t catchup_reads = 0;
  };

  // `store` (not owned) must outlive the hub. Starts the background thread.
  WatchHub(mvcc::Store* store, HubOptions options);
  ~WatchHub();
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // ---- Apply loop ----
  // Called after each batch's SQLite commit with the batch's events in revision order
  // and the store revision after it. Never blocks on a watcher.
  void OnCommitted(std::vector<mvccpb::Event> events, int64_t revision);
  // Cheap: whether any watcher exists, i.e. whether the next batch should collect events.
  bool WantsEvents() const { return watchers_.load(std::memory_order_relaxed) > 0; }

  // ---- Streams (any thread) ----
  StreamId OpenStream(std::shared_ptr<StreamQueue> queue);
  // Cancels every watcher of the stream silently. REQUIRES: `id` is open.
  void CloseStream(StreamId id);
  // Creates a watcher and queues its created response (or a created+canceled one with
  // etcd's reason). REQUIRES: `id` is open.
  void Watch(StreamId id, const WatchSpec& spec);
  // Queues a created+canceled response for a watcher that may not be created (etcd's
  // answer to a watch without read permission), leaving the stream open.
  // REQUIRES: `id` is open.
  void Refuse(StreamId id, int64_t watch_id, std::string reason);
  // Cancels the stream's watcher `watch_id` and queues etcd's canceled response; an
  // unknown id is ignored (as etcd does). REQUIRES: `id` is open.
  void Cancel(StreamId id, int64_t watch_id);
  // Queues a progress response (watch_id -1) at the hub revision as soon as every
  // watcher of the stream is synced. REQUIRES: `id` is open.
  void RequestProgress(StreamId id);

  // The last revision passed to OnCommitted (or the store's at construction).
  int64_t Revision() const;
  Stats GetStats() const;

 private:
  struct Stream;
  struct Watcher {
    uint64_t uid = 0;
    Stream* stream = nullptr;
    int64_t watch_id = 0;
    WatchSpec spec;
    KeyRange range;
    int64_t next_rev = 0;  // the first revision not yet given to this watcher
    bool synced = false;
    bool sent_since_tick = false;  // events queued since the last progress tick
  };
  struct Stream {
    StreamId id = 0;
    std::shared_ptr<StreamQueue> queue;
    std::map<int64_t, std::unique_ptr<Watcher>> watchers;  // by watch_id
    int64_t next_watch_id = 0;
    int unsynced = 0;
    bool progress_requested = false;
  };
  struct CatchUpJob;

  // All REQUIRE mu_ held.
  Stream& StreamLocked(StreamId id);
  void IndexSynced(Watcher* w);
  void UnindexSynced(Watcher* w);
  void Demote(Watcher* w);
  void Rejoin(Watcher* w);
  void Remove(Watcher* w);
  void PushProgressIfReady(Stream& s);
  bool Matches(const Watcher& w, const WatchEvent& ev) const;

  // Background thread.
  void Run();
  void CatchUpRound();
  void ProgressTick();

  mvcc::Store* const store_;
  const HubOptions options_;
  std::atomic<int64_t> watchers_{0};
  std::chrono::steady_clock::time_point last_read_error_log_{};  // background thread only

  mutable std::mutex mu_;
  std::condition_variable cv_;  // wakes the background thread
  bool stopping_ = false;
  int64_t revision_ = 0;
  uint64_t catchup_reads_ = 0;
  StreamId next_stream_id_ = 1;
  uint64_t next_uid_ = 1;
  std::unordered_map<StreamId, std::unique_ptr<Stream>> streams_;
  std::unordered_map<uint64_t, Watcher*> by_uid_;
  std::unordered_map<std::string, std::unordered_set<Watcher*>> synced_keys_;
  std::map<KeyRange, std::unordered_set<Watcher*>> synced_ranges_;
  std::unordered_set<Watcher*> unsynced_;

  std::thread thread_;  // last: starts after everything above exists
};

}  // namespace cairn::watch
