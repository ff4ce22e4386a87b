// WatchHub: fan-out with filters, prev_kv and range forms; etcd's created / canceled /
// error responses; catch-up from the past; slow watchers falling back to storage and
// rejoining without loss or duplication; compaction; progress; many watchers.
#include "server/watch/watch_hub.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "server/watch/tests/hub_harness.h"

namespace cairn::watch::testing {
namespace {

using Kind = Delivery::Kind;
using Strings = std::vector<std::string>;

class WatchHubTest : public mvcc::testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    StartHub({});
  }
  void TearDown() override {
    streams_.clear();
    hub_.reset();
    StoreTest::TearDown();
  }
  void StartHub(HubOptions options) {
    streams_.clear();
    hub_.reset();
    options.catchup_retry = std::chrono::milliseconds(1);
    hub_ = std::make_unique<WatchHub>(store_.get(), options);
  }
  TestStream& NewStream(size_t capacity = 4096) {
    return *streams_.emplace_back(std::make_unique<TestStream>(*hub_, capacity));
  }
  int64_t Do(const std::vector<Op>& ops) { return Apply(*store_, *hub_, ops); }
  // Creates a watcher and returns its id, checking the created response came before
  // anything of the new watcher. (Deliveries of older watchers, queued earlier by the
  // background thread, may precede it.)
  int64_t Watch(TestStream& s, const WatchSpec& spec) {
    hub_->Watch(s.id(), spec);
    const size_t before = s.got().size();
    do {
      s.Drain(1);
    } while (s.got().size() > before && s.got().back().kind != Kind::kCreated);
    EXPECT_GT(s.got().size(), before);
    const Delivery& d = s.got().back();
    EXPECT_EQ(d.kind, Kind::kCreated);
    EXPECT_EQ(d.revision, hub_->Revision());
    EXPECT_TRUE(d.cancel_reason.empty()) << d.cancel_reason;
    return d.watch_id;
  }

  std::unique_ptr<WatchHub> hub_;
  std::vector<std::unique_ptr<TestStream>> streams_;
};

TEST_F(WatchHubTest, FansOutByRangeFormAndFilterAndKeepsPrevKvPerWatcher) {
  Do({OpPut("a", "0")});  // 2: before any watcher
  TestStream& s = NewStream();
  const int64_t key = Watch(s, Spec("a"));
  const int64_t prefix = Watch(s, Spec("a", "b"));
  const int64_t from_key = Watch(s, Spec("b", std::string(1, '\0')));
  WatchSpec no_put = Spec("", std::string(1, '\0'));
  no_put.no_put = true;
  const int64_t deletes = Watch(s, no_put);
  WatchSpec no_delete = Spec("a", "c");
  no_delete.no_delete = true;
  no_delete.prev_kv = true;
  const int64_t puts = Watch(s, no_delete);
  EXPECT_EQ(std::vector<int64_t>({key, prefix, from_key, deletes, puts}), std::vector<int64_t>({0, 1, 2, 3, 4}));

  Do({OpPut("a", "1"), OpPut("ab", "1"), OpPut("b", "1"), OpPut("c", "1")});  // 3
  Do({OpDel("a", "b")});                                                  // 4: a, ab
  s.Drain();
  EXPECT_EQ(s.Events(key), Strings({"P:a@3", "D:a@4"}));
  EXPECT_EQ(s.Events(prefix), Strings({"P:a@3", "P:ab@3", "D:a@4", "D:ab@4"}));
  EXPECT_EQ(s.Events(from_key), Strings({"P:b@3", "P:c@3"}));
  EXPECT_EQ(s.Events(deletes), Strings({"D:a@4", "D:ab@4"}));
  EXPECT_EQ(s.Events(puts), Strings({"P:a@3", "P:ab@3", "P:b@3"}));
  for (const Delivery& d : s.got()) {
    if (d.kind != Kind::kEvents) continue;
    EXPECT_EQ(d.prev_kv, d.watch_id == puts);
    // One delivery per watcher per revision here (one revision per batch).
    EXPECT_EQ(d.revision, d.events.front()->kv().mod_revision());
  }
  // The put of "a" at 3 carries its previous value for the watcher that wants it.
  for (const Delivery& d : s.got()) {
    if (d.watch_id == puts && d.kind == Kind::kEvents) {
      EXPECT_EQ(d.events.front()->prev_kv().value(), "0");
    }
  }
}

TEST_F(WatchHubTest, WatchIdsErrorsAndCancelFollowEtcd) {
  TestStream& s = NewStream();
  EXPECT_EQ(Watch(s, Spec("a")), 0);
  WatchSpec chosen = Spec("a");
  chosen.watch_id = 7;
  EXPECT_EQ(Watch(s, chosen), 7);
  EXPECT_EQ(Watch(s, Spec("a")), 1);
  for (const auto& [spec, reason] : {std::pair{chosen, kErrDuplicateWatchId}, std::pair{Spec("b", "a"), kErrEmptyWatcherRange}}) {
    hub_->Watch(s.id(), spec);
    s.Drain();
    EXPECT_EQ(s.got().back().kind, Kind::kCreated);
    EXPECT_EQ(s.got().back().watch_id, -1);
    EXPECT_EQ(s.got().back().cancel_reason, reason);
  }
  hub_->Cancel(s.id(), 7);
  hub_->Cancel(s.id(), 42);  // unknown: ignored, as etcd does
  s.Drain();
  ASSERT_EQ(s.got().back().kind, Kind::kCanceled);
  EXPECT_EQ(s.got().back().watch_id, 7);
  const size_t before = s.got().size();
  Do({OpPut("a", "1")});
  s.Drain();
  EXPECT_EQ(s.Events(7), Strings());
  ASSERT_EQ(s.got().size(), before + 1);  // watchers 0 and 1 only, sharing one delivery
  EXPECT_TRUE(Addresses(s.got().back(), 0));
  EXPECT_TRUE(Addresses(s.got().back(), 1));
  EXPECT_EQ(s.got().back().QueuedEvents(), 2u);
  EXPECT_EQ(hub_->GetStats().synced, 2u);
}

TEST_F(WatchHubTest, PastStartCatchesUpFromStorageThenGoesLive) {
  for (int i = 0; i < 5; ++i) Do({OpPut("k" + std::to_string(i % 2), std::to_string(i))});  // 2..6
  TestStream& s = NewStream();
  WatchSpec spec = Spec("k", "l", 3);
  spec.prev_kv = true;
  const int64_t id = Watch(s, spec);
  ASSERT_TRUE(Eventually([&] { return hub_->GetStats().unsynced == 0; }));
  Do({OpPut("k0", "x")});  // 7, live
  s.Drain();
  EXPECT_EQ(s.Events(id), Strings({"P:k1@3", "P:k0@4", "P:k1@5", "P:k0@6", "P:k0@7"}));
  EXPECT_EQ(s.got()[1].events[1]->prev_kv().mod_revision(), 2);  // from storage, with prev_kv
  const int64_t future = Watch(s, Spec("k0", "", 9));
  Do({OpPut("k0", "8")});
  Do({OpPut("k0", "9")});
  s.Drain();
  EXPECT_EQ(s.Events(future), Strings({"P:k0@9"}));
}

TEST_F(WatchHubTest, SlowWatcherFallsBehindCatchesUpAndRejoinsWithoutLossOrDuplicates) {
  HubOptions o;
  o.max_catchup_revisions = 5;
  StartHub(o);
  TestStream& slow = NewStream(8);
  TestStream& fast = NewStream(8);
  const int64_t slow_id = Watch(slow, Spec("p", "q"));
  const int64_t fast_id = Watch(fast, Spec("p", "q"));
  Strings want;
  for (int i = 0; i < 60; ++i) {
    const int64_t rev = Do({OpPut("p" + std::to_string(i % 3), "v"), OpPut("p" + std::to_string(i % 3 + 1), "v")});
    want.push_back("P:p" + std::to_string(i % 3) + "@" + std::to_string(rev));
    want.push_back("P:p" + std::to_string(i % 3 + 1) + "@" + std::to_string(rev));
    fast.Drain();  // the fast consumer keeps up; writes never wait for the slow one
  }
  EXPECT_EQ(fast.Events(fast_id), want);
  EXPECT_EQ(hub_->GetStats().unsynced, 1u);
  // The slow consumer now reads a little at a time; the hub refills from storage.
  ASSERT_TRUE(Eventually([&] {
    slow.Drain(1);
    return slow.Events(slow_id).size() >= want.size() && hub_->GetStats().unsynced == 0;
  }));
  slow.Drain();
  EXPECT_EQ(slow.Events(slow_id), want);
  for (const Delivery& d : slow.got()) {
    if (d.kind != Kind::kEvents) continue;
    EXPECT_LE(d.events.size(), 8u);
    EXPECT_GE(d.revision, d.events.back()->kv().mod_revision());
    // Whole revisions: both puts of a revision arrive in the same delivery.
    EXPECT_EQ(d.events.size() % 2, 0u);
  }
  EXPECT_GT(hub_->GetStats().catchup_reads, 1u);
  const int64_t rev = Do({OpPut("p9", "live")});  // back on the live path
  slow.Drain();
  EXPECT_EQ(slow.Events(slow_id).back(), "P:p9@" + std::to_string(rev));
}

TEST_F(WatchHubTest, WatchBelowTheCompactRevisionIsCanceledWithIt) {
  for (int i = 0; i < 5; ++i) Do({OpPut("k", std::to_string(i))});  // 2..6
  ASSERT_TRUE(Compact(5).ok());
  TestStream& s = NewStream();
  const int64_t old = Watch(s, Spec("k", "", 3));
  const int64_t ok = Watch(s, Spec("k", "", 6));
  ASSERT_TRUE(Eventually([&] {
    s.Drain();
    return hub_->GetStats().unsynced == 0;
  }));
  s.Drain();
  bool canceled = false;
  for (const Delivery& d : s.got()) {
    if (d.kind == Kind::kCompacted) {
      EXPECT_EQ(d.watch_id, old);
      EXPECT_EQ(d.compact_revision, 5);
      canceled = true;
    }
  }
  EXPECT_TRUE(canceled);
  EXPECT_EQ(s.Events(ok), Strings({"P:k@6"}));
  EXPECT_EQ(hub_->GetStats().synced, 1u);
}

// A read that fails for another reason than compaction (an I/O error) must not cancel
// the watch with a made-up compact revision: the watcher waits and is caught up once
// reads work again.
TEST_F(WatchHubTest, AFailedCatchUpReadIsRetriedNotReportedAsCompaction) {
  std::atomic<int> failures_left{5};
  HubOptions options;
  options.read_history = [&](mvcc::ReadTxn& txn, std::string_view key, std::string_view end, int64_t from, int64_t to,
                             std::vector<mvccpb::Event>* out) {
    if (failures_left.fetch_sub(1) > 0) return Status::Internal("io: read failed: Input/output error");
    return mvcc::HistoryReader::Read(txn, key, end, from, to, out);
  };
  StartHub(options);
  for (int i = 0; i < 3; ++i) Do({OpPut("k", std::to_string(i))});  // 2..4
  TestStream& s = NewStream();
  const int64_t id = Watch(s, Spec("k", "", 2));
  ASSERT_TRUE(Eventually([&] {
    s.Drain();
    return hub_->GetStats().unsynced == 0;
  }));
  s.Drain();
  for (const Delivery& d : s.got()) EXPECT_NE(d.kind, Kind::kCompacted) << "an I/O error is not a compaction";
  EXPECT_EQ(s.Events(id), Strings({"P:k@2", "P:k@3", "P:k@4"}));
  EXPECT_LE(failures_left.load(), 0) << "the failing reads were retried";
}

TEST_F(WatchHubTest, ProgressRequestWaitsUntilEveryWatcherOfTheStreamIsSynced) {
  TestStream& s = NewStream(2);
  const int64_t id = Watch(s, Spec("k"));
  for (int i = 0; i < 10; ++i) Do({OpPut("k", std::to_string(i))});
  ASSERT_EQ(hub_->GetStats().unsynced, 1u);
  hub_->RequestProgress(s.id());
  ASSERT_TRUE(Eventually([&] {
    s.Drain(1);
    return !s.got().empty() && s.got().back().kind == Kind::kProgress;
  }));
  const Delivery& progress = s.got().back();
  EXPECT_EQ(progress.watch_id, -1);
  EXPECT_EQ(progress.revision, store_->CurrentRevision());
  // Bookmark: every event at or below the progress revision came before it.
  EXPECT_EQ(s.Events(id).size(), 10u);
  // With everything synced it is answered at once.
  hub_->RequestProgress(s.id());
  s.Drain();
  EXPECT_EQ(s.got().back().kind, Kind::kProgress);
}

TEST_F(WatchHubTest, PeriodicProgressGoesToIdleSyncedWatchersThatAskedForIt) {
  HubOptions o;
  o.progress_interval = std::chrono::milliseconds(30);
  StartHub(o);
  TestStream& s = NewStream();
  WatchSpec notify = Spec("k");
  notify.progress_notify = true;
  const int64_t with = Watch(s, notify);
  const int64_t without = Watch(s, Spec("k"));
  Do({OpPut("x", "1")});
  ASSERT_TRUE(Eventually([&] {
    s.Drain();
    return s.got().back().kind == Kind::kProgress;
  }));
  for (const Delivery& d : s.got()) {
    if (d.kind == Kind::kProgress) {
      EXPECT_EQ(d.watch_id, with);
      EXPECT_EQ(d.revision, store_->CurrentRevision());
    }
    EXPECT_FALSE(d.kind == Kind::kProgress && d.watch_id == without);
  }
}

TEST_F(WatchHubTest, BatchWithoutCollectedEventsIsServedFromStorage) {
  TestStream& s = NewStream();
  const int64_t id = Watch(s, Spec("k"));
  // The apply loop checked WantsEvents() before the watcher existed: no events.
  const int64_t rev = [&] {
    mvcc::ApplyBatch b(*store_);
    mvcc::WriteTxn w(b);
    etcdserverpb::PutRequest p;
    p.set_key("k");
    p.set_value("v");
    EXPECT_TRUE(w.Put(p, nullptr).ok());
    w.Commit();
    b.Commit(store_->AppliedIndex() + 1);
    hub_->OnCommitted({}, store_->CurrentRevision());
    return store_->CurrentRevision();
  }();
  ASSERT_TRUE(Eventually([&] {
    s.Drain();
    return !s.Events(id).empty();
  }));
  EXPECT_EQ(s.Events(id), Strings({"P:k@" + std::to_string(rev)}));
}

TEST_F(WatchHubTest, ThousandsOfWatchersOnOnePrefixAllGetEveryEvent) {
  constexpr int kStreams = 50;
  constexpr int kPerStream = 100;
  std::vector<TestStream*> streams;
  for (int i = 0; i < kStreams; ++i) {
    TestStream& s = NewStream(1 << 20);
    for (int j = 0; j < kPerStream; ++j) hub_->Watch(s.id(), Spec("pre/", "pre0"));
    streams.push_back(&s);
  }
  EXPECT_EQ(hub_->GetStats().synced, size_t{kStreams * kPerStream});
  constexpr int kPuts = 50;
  for (int i = 0; i < kPuts; ++i) Do({OpPut("pre/" + std::to_string(i), "v"), OpPut("other", "v")});
  for (TestStream* s : streams) {
    s->Drain();
    for (int j = 0; j < kPerStream; ++j) ASSERT_EQ(s->Events(j).size(), size_t{kPuts});
  }
}

}  // namespace
}  // namespace cairn::watch::testing

namespace cairn::watch::testing {
namespace {

// A stream's deliveries for one revision are queued together before its writer is
// woken, so the writer sees them all and gRPC can send them in one flush; watchers of
// the stream that get the same events with the same settings share one delivery.
TEST_F(WatchHubTest, OneRevisionWakesEachStreamOnceAndIdenticalWatchersShareADelivery) {
  std::vector<size_t> queued_at_wake;
  std::vector<Delivery> got;
  std::shared_ptr<StreamQueue> queue;
  queue = std::make_shared<StreamQueue>(4096, [&] {
    queued_at_wake.push_back(queue->Size());
    Delivery d;
    while (queue->Pop(&d) == StreamQueue::Next::kDelivery) got.push_back(std::move(d));
  });
  const auto id = hub_->OpenStream(queue);
  for (int i = 0; i < 5; ++i) hub_->Watch(id, Spec("pre/", "pre0"));  // ids 0-4
  WatchSpec with_prev = Spec("pre/", "pre0");
  with_prev.prev_kv = true;
  hub_->Watch(id, with_prev);  // 5
  WatchSpec no_put = Spec("pre/", "pre0");
  no_put.no_put = true;
  hub_->Watch(id, no_put);  // 6
  queued_at_wake.clear();
  got.clear();
  Do({OpPut("pre/a", "v")});
  ASSERT_EQ(queued_at_wake.size(), 1u);
  EXPECT_EQ(queued_at_wake[0], 2u);
  ASSERT_EQ(got.size(), 2u);
  const Delivery& plain = got[0].prev_kv ? got[1] : got[0];
  const Delivery& prev = got[0].prev_kv ? got[0] : got[1];
  for (int64_t w = 0; w < 5; ++w) EXPECT_TRUE(Addresses(plain, w)) << w;
  EXPECT_EQ(plain.QueuedEvents(), 5u);
  EXPECT_EQ(prev.watch_id, 5);
  EXPECT_TRUE(prev.more_watch_ids.empty());
  EXPECT_FALSE(Addresses(plain, 6) || Addresses(prev, 6));
  hub_->CloseStream(id);
}

// A shared delivery weighs as many events as it sends: watchers that no longer fit in
// the stream's buffer fall behind, and catch up exactly once from storage.
TEST_F(WatchHubTest, SharedDeliveriesCountEveryWatcherAgainstTheStreamBuffer) {
  TestStream& s = NewStream(3);
  for (int i = 0; i < 5; ++i) Watch(s, Spec("pre/", "pre0"));
  s.got().clear();
  const int64_t rev = Do({OpPut("pre/a", "v")});
  EXPECT_EQ(hub_->GetStats().unsynced, 2u);
  EXPECT_EQ(s.queue().PendingEvents(), 3u);
  ASSERT_TRUE(Eventually([&] {
    s.Drain();
    return hub_->GetStats().unsynced == 0;
  }));
  s.Drain();
  for (int64_t w = 0; w < 5; ++w) EXPECT_EQ(s.Events(w), Strings({"P:pre/a@" + std::to_string(rev)})) << w;
}

}  // namespace
}  // namespace cairn::watch::testing

namespace cairn::watch::testing {
namespace {

// A client may write as soon as it sees its created response; the batch it starts must
// collect events, so the hub wants them before that response can leave.
TEST_F(WatchHubTest, EventsAreWantedBeforeTheCreatedResponseLeaves) {
  std::vector<bool> wanted_at_wake;
  std::shared_ptr<StreamQueue> queue;
  queue = std::make_shared<StreamQueue>(4096, [&] {
    wanted_at_wake.push_back(hub_->WantsEvents());
    Delivery d;
    while (queue->Pop(&d) == StreamQueue::Next::kDelivery) {
    }
  });
  const auto id = hub_->OpenStream(queue);
  ASSERT_FALSE(hub_->WantsEvents());
  hub_->Watch(id, Spec("k"));
  ASSERT_EQ(wanted_at_wake.size(), 1u);
  EXPECT_TRUE(wanted_at_wake[0]);
  hub_->CloseStream(id);
}

}  // namespace
}  // namespace cairn::watch::testing
