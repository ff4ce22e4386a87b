// The watch checker: etcd's watch guarantees verified against the MVCC history under
// load. Writers apply multi-op txns (several puts and deletes per revision, several
// revisions per batch), a compactor keeps compacting, and watch streams (some of them
// slow consumers, so watchers fall behind and catch up from storage) keep creating
// watchers at random start revisions with random ranges and filters, cancel and resume
// them, and ask for progress. Every response is recorded; afterwards each watcher's
// events are checked against the recorded history:
//   ordered + unique + reliable: the events of a watcher are exactly the history's
//     matching events from its start revision, in order (a prefix of them if the
//     watcher was canceled or compacted; all of them for watchers alive at the end);
//   atomic: a response holding any event of a revision holds all of that revision's;
//   resumable: a watcher canceled and re-created at (last revision + 1) continues
//     exactly where it stopped;
//   bookmarkable: after a progress response at revision R, no event at or below R
//     arrives on the stream, and every watcher created before it already got all of
//     its events at or below R;
//   compaction: a watcher is canceled with compact_revision only when the history it
//     still needed was compacted.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server/watch/tests/grpc_harness.h"

namespace cairn::watch::testing {
namespace {

using etcdserverpb::WatchCreateRequest;
using etcdserverpb::WatchResponse;

constexpr auto kLoadTime = std::chrono::seconds(5);
constexpr int kStreams = 6;
constexpr int kSlowStreams = 2;
constexpr size_t kMaxLiveWatchers = 10;

std::string Key(std::mt19937_64& rng) {
  static const char* const kPrefixes[] = {"/a/", "/b/", "/c"};
  return std::string(kPrefixes[rng() % 3]) + std::to_string(rng() % 12);
}

std::vector<Op> RandomTxn(std::mt19937_64& rng, int n) {
  std::vector<Op> ops;
  const int count = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < count; ++i) {
    switch (rng() % 6) {
      case 0: ops.push_back(OpDel(Key(rng))); break;
      case 1: ops.push_back(OpDel("/a/1", "/a/3")); break;
      default: ops.push_back(OpPut(Key(rng), "v" + std::to_string(n) + "." + std::to_string(i))); break;
    }
  }
  return ops;
}

WatchCreateRequest RandomWatch(std::mt19937_64& rng, int64_t current) {
  WatchCreateRequest c;
  switch (rng() % 5) {
    case 0: c.set_key(Key(rng)); break;
    case 1: c.set_key("/a/"); c.set_range_end("/a0"); break;
    case 2: c.set_key("/b/"); c.set_range_end("/b0"); break;
    case 3: c.set_key("/b"); c.set_range_end(std::string(1, '\0')); break;
    default: c.set_key(std::string(1, '\0')); c.set_range_end(std::string(1, '\0')); break;
  }
  switch (rng() % 3) {
    case 0: break;  // now
    case 1: c.set_start_revision(std::max<int64_t>(1, current - static_cast<int64_t>(rng() % 150))); break;
    default: c.set_start_revision(current + static_cast<int64_t>(rng() % 5)); break;
  }
  if (rng() % 8 == 0) c.add_filters(WatchCreateRequest::NOPUT);
  if (rng() % 8 == 0) c.add_filters(WatchCreateRequest::NODELETE);
  c.set_prev_kv(rng() % 2 == 0);
  c.set_progress_notify(rng() % 3 == 0);
  return c;
}

bool InRange(const WatchCreateRequest& c, const std::string& k) {
  const std::string key = c.key().empty() ? std::string(1, '\0') : c.key();
  return KeyRange{key, c.range_end()}.Contains(k);
}

bool Passes(const WatchCreateRequest& c, const mvccpb::Event& e) {
  for (int f : c.filters()) {
    if (f == WatchCreateRequest::NOPUT && e.type() == mvccpb::Event::PUT) return false;
    if (f == WatchCreateRequest::NODELETE && e.type() == mvccpb::Event::DELETE) return false;
  }
  return true;
}

// One physical watch (one watch_id) of one stream.
struct Segment {
  WatchCreateRequest request;
  int64_t start = 0;  // resolved: the first revision it may report
  size_t created_at = 0;
  size_t ended_at = SIZE_MAX;  // index of the canceled response
  bool compacted = false;
  int64_t compact_revision = 0;
  bool alive_at_end = false;
};

// Runs one stream's workload; returns the stream's segments keyed by watch id.
class StreamDriver {
 public:
  StreamDriver(WatchServer& server, int seed, bool slow)
      : server_(server),
        rng_(seed),
        client_(server.channel(), false, slow ? std::chrono::milliseconds(100) : std::chrono::milliseconds(0)) {}

  void Run(const std::atomic<bool>& stop) {
    while (!stop.load()) {
      const int action = static_cast<int>(rng_() % 10);
      if (live_.empty() || (action < 4 && live_.size() < kMaxLiveWatchers)) {
        Create(RandomWatch(rng_, server_.store().CurrentRevision()));
      } else if (action < 7) {
        Resume(live_[rng_() % live_.size()], /*again=*/true);
      } else if (action < 8) {
        Resume(live_[rng_() % live_.size()], /*again=*/false);
      } else {
        ASSERT_TRUE(client_.RequestProgress());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5 + rng_() % 20));
    }
  }

  // Waits until a progress response covers `final_rev`, i.e. every live watcher has
  // everything; then the stream's log is complete.
  void Finish(int64_t final_rev) {
    ASSERT_TRUE(client_.RequestProgress());
    const bool done = client_.WaitFor([&](const std::vector<WatchResponse>& r) {
      for (size_t i = last_seen_; i < r.size(); ++i) {
        if (r[i].watch_id() == -1 && r[i].header().revision() >= final_rev) return true;
      }
      return false;
    });
    ASSERT_TRUE(done) << "no final progress at " << final_rev;
    log_ = client_.Responses();
    for (int64_t id : live_) segments_[id].alive_at_end = true;
  }

  void Check(const std::vector<mvccpb::Event>& history) const;
  size_t Events() const {
    size_t n = 0;
    for (const auto& r : log_) n += r.events_size();
    return n;
  }

 private:
  // Sends a create with the next watch id and waits for its created response.
  void Create(WatchCreateRequest c) {
    const int64_t id = next_id_++;
    c.set_watch_id(id);
    ASSERT_TRUE(client_.Create(c));
    size_t at = 0;
    ASSERT_TRUE(client_.WaitFor([&](const std::vector<WatchResponse>& r) {
      for (size_t i = last_seen_; i < r.size(); ++i) {
        if (r[i].created() && r[i].watch_id() == id) {
          at = i;
          return true;
        }
      }
      return false;
    }));
    const auto log = client_.Responses();
    ASSERT_FALSE(log[at].canceled()) << log[at].cancel_reason();
    Segment& s = segments_[id];
    s.request = c;
    s.created_at = at;
    s.start = c.start_revision() > 0 ? c.start_revision() : log[at].header().revision() + 1;
    live_.push_back(id);
  }

  // Cancels `id` and, if `again` and it was not already canceled by compaction,
  // re-creates it from the revision after the last event it got.
  void Resume(int64_t id, bool again) {
    live_.erase(std::find(live_.begin(), live_.end(), id));
    ASSERT_TRUE(client_.Cancel(id));
    size_t at = 0;
    ASSERT_TRUE(client_.WaitFor([&](const std::vector<WatchResponse>& r) {
      for (size_t i = 0; i < r.size(); ++i) {
        if (r[i].canceled() && r[i].watch_id() == id && !r[i].created()) {
          at = i;
          return true;
        }
      }
      return false;
    }));
    const auto log = client_.Responses();
    Segment& s = segments_[id];
    s.ended_at = at;
    if (log[at].compact_revision() != 0) {
      s.compacted = true;
      s.compact_revision = log[at].compact_revision();
      return;
    }
    if (!again) return;
    int64_t next = s.start;
    for (size_t i = s.created_at; i < at; ++i) {
      if (log[i].watch_id() != id) continue;
      for (const auto& e : log[i].events()) next = std::max(next, e.kv().mod_revision() + 1);
    }
    WatchCreateRequest resumed = s.request;
    resumed.set_start_revision(next);
    Create(resumed);
  }

  WatchServer& server_;
  std::mt19937_64 rng_;
  WatchClient client_;
  int64_t next_id_ = 1;
  size_t last_seen_ = 0;
  std::vector<int64_t> live_;
  std::map<int64_t, Segment> segments_;
  std::vector<WatchResponse> log_;
};

void StreamDriver::Check(const std::vector<mvccpb::Event>& history) const {
  using google::protobuf::util::MessageDifferencer;
  std::map<int64_t, Segment> segs = segments_;
  // Compaction cancels that arrived without the client asking.
  for (size_t i = 0; i < log_.size(); ++i) {
    const WatchResponse& r = log_[i];
    if (r.canceled() && !r.created() && r.compact_revision() != 0) {
      Segment& s = segs.at(r.watch_id());
      s.ended_at = std::min(s.ended_at, i);
      s.compacted = true;
      s.compact_revision = r.compact_revision();
      s.alive_at_end = false;
    }
  }
  for (const auto& [id, s] : segs) {
    SCOPED_TRACE("watch " + std::to_string(id) + " " + s.request.ShortDebugString());
    std::vector<mvccpb::Event> want;
    std::map<int64_t, int> per_rev;
    for (mvccpb::Event e : history) {
      if (e.kv().mod_revision() < s.start || !InRange(s.request, e.kv().key()) || !Passes(s.request, e)) continue;
      if (!s.request.prev_kv()) e.clear_prev_kv();
      ++per_rev[e.kv().mod_revision()];
      want.push_back(std::move(e));
    }
    size_t got = 0;
    for (size_t i = s.created_at + 1; i < std::min(s.ended_at, log_.size()); ++i) {
      const WatchResponse& r = log_[i];
      if (r.watch_id() != id || r.events_size() == 0) continue;
      std::map<int64_t, int> in_response;
      for (const auto& e : r.events()) {
        ASSERT_LT(got, want.size()) << "event beyond the history: " << e.ShortDebugString();
        ASSERT_TRUE(MessageDifferencer::Equals(e, want[got]))
            << "event #" << got << " got " << e.ShortDebugString() << "\nwant " << want[got].ShortDebugString();
        ++got;
        ++in_response[e.kv().mod_revision()];
      }
      for (const auto& [rev, n] : in_response) ASSERT_EQ(n, per_rev[rev]) << "revision " << rev << " split";
    }
    if (s.alive_at_end) {
      ASSERT_EQ(got, want.size()) << "events missing at the end";
    }
    if (s.compacted) {
      const int64_t needed = got == 0 ? s.start : want[got - 1].kv().mod_revision() + 1;
      ASSERT_LE(needed, s.compact_revision) << "canceled for compaction though its history was intact";
    }
    // Bookmarks: a progress response (stream-wide or this watcher's) at R after this
    // watcher's creation means all of its events <= R came before it and none after.
    size_t delivered = 0;
    for (size_t i = s.created_at + 1; i < std::min(s.ended_at, log_.size()); ++i) {
      const WatchResponse& r = log_[i];
      if (r.watch_id() == id) delivered += r.events_size();
      const bool progress = r.events_size() == 0 && !r.created() && !r.canceled() &&
                            (r.watch_id() == -1 || r.watch_id() == id);
      if (!progress) continue;
      const int64_t bookmark = r.header().revision();
      size_t due = 0;
      while (due < want.size() && want[due].kv().mod_revision() <= bookmark) ++due;
      ASSERT_EQ(delivered, due) << "progress at " << bookmark << " (response " << i << ")";
    }
  }
}

TEST(WatchCheckerTest, DeliveryIsOrderedUniqueAtomicReliableResumableAndBookmarkable) {
  api::WatchServiceOptions so;
  so.stream_buffer_events = 32;  // small, so slow streams fall behind and catch up
  HubOptions ho;
  ho.max_catchup_revisions = 64;
  ho.catchup_retry = std::chrono::milliseconds(2);
  ho.progress_interval = std::chrono::milliseconds(100);
  WatchServer server(so, ho);
  for (int i = 0; i < 50; ++i) server.Apply({OpPut("/a/" + std::to_string(i % 12), "seed")});

  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937_64 rng(100 + w);
      int n = 0;
      while (!stop.load()) {
        std::vector<std::vector<Op>> batch;
        const int requests = 1 + static_cast<int>(rng() % 3);
        for (int i = 0; i < requests; ++i) batch.push_back(RandomTxn(rng, n++));
        server.ApplyBatchOf(batch);
        std::this_thread::sleep_for(std::chrono::milliseconds(4));
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
      server.Compact(server.store().CurrentRevision() - 40);
    }
  });
  std::vector<std::unique_ptr<StreamDriver>> drivers;
  for (int i = 0; i < kStreams; ++i) drivers.push_back(std::make_unique<StreamDriver>(server, 1000 + i, i < kSlowStreams));
  std::atomic<bool> drivers_stop{false};
  std::vector<std::thread> driver_threads;
  for (auto& d : drivers) driver_threads.emplace_back([&, p = d.get()] { p->Run(drivers_stop); });

  std::this_thread::sleep_for(kLoadTime);
  drivers_stop = true;
  stop = true;
  for (auto& t : driver_threads) t.join();
  for (auto& t : threads) t.join();

  const int64_t final_rev = server.store().CurrentRevision();
  for (auto& d : drivers) d->Finish(final_rev);
  const auto history = server.History();
  size_t events = 0;
  for (auto& d : drivers) {
    d->Check(history);
    events += d->Events();
  }
  const auto stats = server.hub().GetStats();
  std::printf("history: %zu events up to revision %lld; delivered %zu events; catch-up reads %llu\n",
              history.size(), static_cast<long long>(final_rev), events,
              static_cast<unsigned long long>(stats.catchup_reads));
  // The run must have exercised the slow path, or it proves nothing about it.
  EXPECT_GT(stats.catchup_reads, 0u);
  EXPECT_GT(events, 1000u);
}

}  // namespace
}  // namespace cairn::watch::testing
