#include "server/etcdserver/raft_node.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace cairn::etcdserver {
namespace {

using raft::MessageType;
constexpr auto kWait = std::chrono::seconds(10);
// Ticks after which a follower surely campaigns: the election timeout is randomized in
// [election_tick, 2 * election_tick).
constexpr int kElectionTick = 10;
constexpr int kTicksToCampaign = 2 * kElectionTick;

// An in-memory log that records every Save, can hold Save (it blocks until released,
// as a slow disk would) and can fail it. Durable: what a synced Save returned for.
class MemoryPersistence final : public RaftPersistence {
 public:
  struct SaveCall {
    raft::HardState hard_state;
    std::vector<raft::Entry> entries;
    bool sync = false;
  };

  Status Save(const raft::HardState& hs, const std::vector<raft::Entry>& entries, bool sync) override {
    std::unique_lock lock(mu_);
    saves_.push_back({hs, entries, sync});
    cv_.notify_all();
    cv_.wait(lock, [&] { return !held_; });
    if (fail_) return Status::IoError("injected: the disk is gone");
    if (!entries.empty()) written_ = entries.back().index;
    if (sync) durable_ = written_;
    return Status::Ok();
  }
  Status SaveSnapshot(const raft::SnapshotMetadata& md) override {
    std::lock_guard lock(mu_);
    markers_.push_back(md);
    return Status::Ok();
  }
  Status ReleaseTo(raft::Index index) override {
    std::lock_guard lock(mu_);
    released_to_ = index;
    return Status::Ok();
  }

  void Hold() {
    std::lock_guard lock(mu_);
    held_ = true;
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      held_ = false;
    }
    cv_.notify_all();
  }
  void FailEverySave() {
    std::lock_guard lock(mu_);
    fail_ = true;
  }
  // Waits until some Save call (entered, maybe still held) satisfies `pred`.
  bool WaitForSave(const std::function<bool(const SaveCall&)>& pred) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return std::any_of(saves_.begin(), saves_.end(), pred); });
  }
  std::vector<SaveCall> saves() const {
    std::lock_guard lock(mu_);
    return saves_;
  }
  raft::Index durable() const {
    std::lock_guard lock(mu_);
    return durable_;
  }
  std::vector<raft::SnapshotMetadata> markers() const {
    std::lock_guard lock(mu_);
    return markers_;
  }
  raft::Index released_to() const {
    std::lock_guard lock(mu_);
    return released_to_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<SaveCall> saves_;                 // guarded by mu_
  std::vector<raft::SnapshotMetadata> markers_;  // guarded by mu_
  raft::Index released_to_ = 0;                 // guarded by mu_
  raft::Index written_ = 0;                     // guarded by mu_
  raft::Index durable_ = 0;                     // guarded by mu_
  bool held_ = false;                           // guarded by mu_
  bool fail_ = false;                           // guarded by mu_
};

bool Carries(const std::vector<raft::Entry>& entries, const std::string& data) {
  return std::any_of(entries.begin(), entries.end(), [&](const raft::Entry& e) { return e.data == data; });
}

// Records what the node sends; `forward`, when set, also passes each message on (a
// fake transport between nodes).
class FakeSink final : public MessageSink {
 public:
  std::function<void(const raft::Message&)> forward;

  void Send(std::vector<raft::Message> messages) override {
    {
      std::lock_guard lock(mu_);
      sent_.insert(sent_.end(), messages.begin(), messages.end());
    }
    cv_.notify_all();
    if (forward) {
      for (const auto& m : messages) forward(m);
    }
  }
  void SendSnapshot(const raft::Message& snapshot) override { ADD_FAILURE() << "unexpected MsgSnap to " << snapshot.to; }
  void RefreshPeers() override {}

  // Waits until a sent message satisfies `pred`; returns it.
  std::optional<raft::Message> WaitFor(const std::function<bool(const raft::Message&)>& pred) {
    std::unique_lock lock(mu_);
    std::optional<raft::Message> found;
    cv_.wait_for(lock, kWait, [&] {
      auto it = std::find_if(sent_.begin(), sent_.end(), pred);
      if (it != sent_.end()) found = *it;
      return found.has_value();
    });
    return found;
  }
  bool AnySent(const std::function<bool(const raft::Message&)>& pred) const {
    std::lock_guard lock(mu_);
    return std::any_of(sent_.begin(), sent_.end(), pred);
  }
  bool AnySent(MessageType type) const {
    return AnySent([&](const raft::Message& m) { return m.type == type; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<raft::Message> sent_;  // guarded by mu_
};

// Records what the node reports, and counts committed entries handed on before the
// persistence had made them durable (the invariant of raft_node.h).
class FakeListener final : public RaftNodeListener {
 public:
  explicit FakeListener(const MemoryPersistence* persistence) : persistence_(persistence) {}

  void OnLeaderChanged(uint64_t /*previous*/, uint64_t leader) override {
    Record([&] { leader_ = leader; });
  }
  void OnTick(Clock::time_point /*now*/) override {}
  bool NeedsReadIndex() const override {
    std::lock_guard lock(mu_);
    return !read_requests_.empty();
  }
  void IssueReadIndex(Clock::time_point /*now*/, const std::function<void(std::string ctx)>& read_index) override {
    std::vector<std::string> requests;
    {
      std::lock_guard lock(mu_);
      requests.swap(read_requests_);
    }
    for (auto& ctx : requests) read_index(std::move(ctx));
  }
  void OnReadState(const raft::ReadState& read_state) override {
    Record([&] { read_states_.push_back(read_state); });
  }
  void OnCommitted(std::vector<raft::Entry> entries) override {
    const raft::Index durable = persistence_->durable();
    Record([&] {
      for (auto& e : entries) {
        if (e.index > durable) ++committed_before_durable_;
        committed_.push_back(std::move(e));
      }
    });
  }
  void OnProposalFailed(uint64_t id, const Status& status) override {
    Record([&] { failed_.emplace_back(id, status); });
  }
  void OnConfChangeFailed(const raft::ConfChange& cc, const Status& status) override {
    Record([&] { failed_.emplace_back(cc.node_id, status); });
  }

  void RequestRead(std::string ctx) {
    std::lock_guard lock(mu_);
    read_requests_.push_back(std::move(ctx));
  }
  bool WaitForLeader(uint64_t leader) {
    return WaitUntil([&] { return leader_ == leader; });
  }
  bool WaitForCommitted(const std::string& data) {
    return WaitUntil([&] { return Carries(committed_, data); });
  }
  bool WaitForReadState(const std::string& ctx) {
    return WaitUntil([&] {
      return std::any_of(read_states_.begin(), read_states_.end(),
                         [&](const raft::ReadState& rs) { return rs.request_ctx == ctx; });
    });
  }
  bool HasCommitted(const std::string& data) const {
    std::lock_guard lock(mu_);
    return Carries(committed_, data);
  }
  int committed_before_durable() const {
    std::lock_guard lock(mu_);
    return committed_before_durable_;
  }
  size_t failures() const {
    std::lock_guard lock(mu_);
    return failed_.size();
  }

 private:
  template <typename F>
  void Record(F&& change) {
    {
      std::lock_guard lock(mu_);
      change();
    }
    cv_.notify_all();
  }
  template <typename Pred>
  bool WaitUntil(Pred pred) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, pred);
  }

  const MemoryPersistence* const persistence_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t leader_ = raft::kNoNode;                      // guarded by mu_
  std::vector<raft::Entry> committed_;                   // guarded by mu_
  int committed_before_durable_ = 0;                     // guarded by mu_
  std::vector<raft::ReadState> read_states_;             // guarded by mu_
  std::vector<std::string> read_requests_;               // guarded by mu_
  std::vector<std::pair<uint64_t, Status>> failed_;      // guarded by mu_
};

// One node with its fakes. Ticks only when the test says so.
struct Member {
  Member(uint64_t id, std::vector<uint64_t> voters, bool pre_vote = true, bool campaign_at_start = false) {
    auto log = std::make_unique<raft::MemoryStorage>();
    log->SetConfState(raft::ConfState{std::move(voters), {}});
    RaftNode::Options options;
    options.config.id = id;
    options.config.election_tick = kElectionTick;
    options.config.heartbeat_tick = 1;
    options.config.pre_vote = pre_vote;
    options.config.leader_persists_in_parallel = true;
    options.config.seed = id;
    options.tick_interval = std::chrono::milliseconds(0);
    options.campaign_at_start = campaign_at_start;
    auto created = RaftNode::Create(options,
                                    RaftNode::Parts{.persistence = &persistence,
                                                    .sink = &sink,
                                                    .listener = &listener,
                                                    .applied = &applied},
                                    std::move(log));
    CAIRN_CHECK(created.ok());
    node = std::move(created.value());
  }

  // A test that failed while holding the persistence must not leave the node's thread
  // blocked in a write: Stop() would wait for it forever.
  ~Member() {
    persistence.Release();
    node->Stop();
  }

  void Tick(int n) {
    for (int i = 0; i < n; ++i) node->Tick();
  }

  MemoryPersistence persistence;
  FakeSink sink;
  FakeListener listener{&persistence};
  std::atomic<uint64_t> applied{0};
  std::unique_ptr<RaftNode> node;  // last: stopped before the fakes go
};

// A lone voter elected by ticks, its first entry (the empty one of its term) committed.
std::unique_ptr<Member> ElectedSingleVoter() {
  auto m = std::make_unique<Member>(1, std::vector<uint64_t>{1});
  m->node->Start();
  m->Tick(kTicksToCampaign);
  EXPECT_TRUE(m->listener.WaitForLeader(1));
  EXPECT_TRUE(m->listener.WaitForCommitted(""));
  return m;
}

raft::Message From(uint64_t from, MessageType type, uint64_t term) {
  raft::Message m;
  m.type = type;
  m.from = from;
  m.to = 1;
  m.term = term;
  return m;
}

TEST(RaftNodeTest, SingleVoterCommitsAProposalOnlyOnceItIsDurable) {
  auto m = ElectedSingleVoter();
  m->persistence.Hold();
  ASSERT_TRUE(m->node->Propose(7, "x").ok());
  ASSERT_TRUE(m->persistence.WaitForSave([](const auto& s) { return Carries(s.entries, "x"); }));
  EXPECT_FALSE(m->listener.HasCommitted("x")) << "committed while its write was still in progress";
  m->persistence.Release();
  ASSERT_TRUE(m->listener.WaitForCommitted("x"));
  for (const auto& s : m->persistence.saves()) {
    if (Carries(s.entries, "x")) {
      EXPECT_TRUE(s.sync) << "new entries must be synced";
    }
  }
  EXPECT_EQ(m->listener.committed_before_durable(), 0);
  EXPECT_EQ(m->node->leader(), 1u);
  EXPECT_EQ(m->node->leader_changes(), 1u);
}

TEST(RaftNodeTest, ProposalsQueuedDuringAWriteShareTheNextSync) {
  auto m = ElectedSingleVoter();
  m->persistence.Hold();
  ASSERT_TRUE(m->node->Propose(1, "a").ok());
  ASSERT_TRUE(m->persistence.WaitForSave([](const auto& s) { return Carries(s.entries, "a"); }));
  // The loop is inside the write of "a": these queue up behind it.
  ASSERT_TRUE(m->node->Propose(2, "b").ok());
  ASSERT_TRUE(m->node->Propose(3, "c").ok());
  m->persistence.Release();
  ASSERT_TRUE(m->listener.WaitForCommitted("c"));
  int writes_of_b_or_c = 0;
  for (const auto& s : m->persistence.saves()) {
    if (!Carries(s.entries, "b") && !Carries(s.entries, "c")) continue;
    ++writes_of_b_or_c;
    EXPECT_TRUE(Carries(s.entries, "b") && Carries(s.entries, "c")) << "b and c were written separately";
    EXPECT_TRUE(s.sync);
  }
  EXPECT_EQ(writes_of_b_or_c, 1) << "group commit: one synced write for both";
}

TEST(RaftNodeTest, ProposalWithoutALeaderIsHeldUntilOneIsElected) {
  Member m(1, {1});
  m.node->Start();
  ASSERT_TRUE(m.node->Propose(1, "early").ok());
  m.Tick(kTicksToCampaign);
  ASSERT_TRUE(m.listener.WaitForLeader(1));
  m.Tick(1);  // held proposals are tried again on every pass of the loop
  ASSERT_TRUE(m.listener.WaitForCommitted("early"));
  EXPECT_EQ(m.listener.failures(), 0u);
}

// No tick ever comes here (tick_interval 0): only the campaign at start elects it.
TEST(RaftNodeTest, LoneVoterCampaigningAtStartLeadsWithoutAnElectionTimeout) {
  Member m(1, {1}, /*pre_vote=*/true, /*campaign_at_start=*/true);
  m.node->Start();
  ASSERT_TRUE(m.listener.WaitForLeader(1));
  ASSERT_TRUE(m.node->Propose(1, "first").ok());
  ASSERT_TRUE(m.listener.WaitForCommitted("first"));
}

TEST(RaftNodeTest, ReadStatesReachTheListener) {
  auto m = ElectedSingleVoter();
  m->listener.RequestRead("read-1");
  m->node->WakeForReads();
  EXPECT_TRUE(m->listener.WaitForReadState("read-1"));
}

TEST(RaftNodeTest, LeaderSendsAppendsBeforeItsOwnWriteCompletes) {
  // Node 1 of three; the test answers for 2 and 3.
  Member m(1, {1, 2, 3}, /*pre_vote=*/false);
  m.node->Start();
  m.Tick(kTicksToCampaign);
  auto vote = m.sink.WaitFor([](const raft::Message& x) { return x.type == MessageType::MsgVote && x.to == 2; });
  ASSERT_TRUE(vote);
  m.node->Step(From(2, MessageType::MsgVoteResp, vote->term));
  ASSERT_TRUE(m.listener.WaitForLeader(1));
  // The followers take the leader's first entry, so it streams to them from then on
  // (until a follower answers, the leader only probes it).
  for (uint64_t peer : {2, 3}) {
    ASSERT_TRUE(m.sink.WaitFor([&](const raft::Message& x) { return x.type == MessageType::MsgApp && x.to == peer; }));
    raft::Message ack = From(peer, MessageType::MsgAppResp, vote->term);
    ack.index = 1;
    m.node->Step(ack);
  }
  ASSERT_TRUE(m.listener.WaitForCommitted(""));

  m.persistence.Hold();
  ASSERT_TRUE(m.node->Propose(1, "x").ok());
  ASSERT_TRUE(m.persistence.WaitForSave([](const auto& s) { return Carries(s.entries, "x"); }));
  // The leader's own write of "x" is still in progress, yet both followers have it.
  for (uint64_t peer : {2, 3}) {
    EXPECT_TRUE(m.sink.AnySent([&](const raft::Message& x) {
      return x.type == MessageType::MsgApp && x.to == peer && Carries(x.entries, "x");
    })) << "no MsgApp with x to " << peer << " while the leader was writing it";
  }
  m.persistence.Release();
}

TEST(RaftNodeTest, FollowerAcknowledgesAppendsOnlyOnceTheyAreDurable) {
  Member m(1, {1, 2, 3});
  m.node->Start();
  m.persistence.Hold();
  raft::Message app = From(2, MessageType::MsgApp, 2);
  app.entries = {raft::Entry{2, 1, raft::EntryType::kNormal, "x"}};
  app.commit = 1;  // committed at once: it still goes on only after the write
  m.node->Step(app);
  ASSERT_TRUE(m.persistence.WaitForSave([](const auto& s) { return Carries(s.entries, "x"); }));
  EXPECT_FALSE(m.sink.AnySent(MessageType::MsgAppResp)) << "acknowledged before the write completed";
  EXPECT_FALSE(m.listener.HasCommitted("x"));
  m.persistence.Release();
  auto ack = m.sink.WaitFor([](const raft::Message& x) { return x.type == MessageType::MsgAppResp; });
  ASSERT_TRUE(ack);
  EXPECT_FALSE(ack->reject);
  EXPECT_EQ(ack->index, 1u);
  ASSERT_TRUE(m.listener.WaitForCommitted("x"));
  EXPECT_EQ(m.listener.committed_before_durable(), 0);
}

TEST(RaftNodeTest, VoteIsGrantedOnlyOnceItIsDurable) {
  Member m(1, {1, 2, 3});
  m.node->Start();
  m.persistence.Hold();
  m.node->Step(From(2, MessageType::MsgVote, 2));
  ASSERT_TRUE(m.persistence.WaitForSave([](const auto& s) { return s.hard_state.vote == 2; }));
  EXPECT_FALSE(m.sink.AnySent(MessageType::MsgVoteResp)) << "voted before the vote was durable";
  m.persistence.Release();
  auto vote = m.sink.WaitFor([](const raft::Message& x) { return x.type == MessageType::MsgVoteResp; });
  ASSERT_TRUE(vote);
  EXPECT_FALSE(vote->reject);
  for (const auto& s : m.persistence.saves()) {
    if (s.hard_state.vote == 2) {
      EXPECT_TRUE(s.sync) << "a vote must be synced";
    }
  }
}

// A follower whose disk fails under an append; returns only if the node survives it.
void AppendToAFailingDisk() {
  Member m(1, {1, 2, 3});
  m.persistence.FailEverySave();
  // An acknowledgement of the failed write would be a lie: die differently then.
  m.sink.forward = [](const raft::Message& x) {
    if (x.type == MessageType::MsgAppResp) Panic("acknowledged a failed write");
  };
  m.node->Start();
  raft::Message app = From(2, MessageType::MsgApp, 2);
  app.entries = {raft::Entry{2, 1, raft::EntryType::kNormal, "x"}};
  m.node->Step(app);
  std::this_thread::sleep_for(kWait);
}

TEST(RaftNodeDeathTest, FailedWriteAbortsInsteadOfAcknowledging) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(AppendToAFailingDisk(), "wal write failed: .*the disk is gone");
}

TEST(RaftNodeTest, CompactLogWritesAMarkerWithTheVotersAndReleasesTheLog) {
  auto m = ElectedSingleVoter();
  ASSERT_TRUE(m->node->Propose(1, "x").ok());
  ASSERT_TRUE(m->listener.WaitForCommitted("x"));
  m->node->CompactLog(2);
  m->persistence.Hold();  // the next pass of the loop runs after the compaction
  ASSERT_TRUE(m->node->Propose(2, "y").ok());
  ASSERT_TRUE(m->persistence.WaitForSave([](const auto& s) { return Carries(s.entries, "y"); }));
  const auto markers = m->persistence.markers();
  ASSERT_EQ(markers.size(), 1u);
  EXPECT_EQ(markers[0].index, 2u);
  EXPECT_EQ(markers[0].conf_state.voters, std::vector<uint64_t>{1});
  EXPECT_EQ(m->persistence.released_to(), 2u);
  m->persistence.Release();
}

// Three members whose sinks deliver to each other (a fake transport).
struct Cluster {
  Cluster() {
    for (uint64_t id = 1; id <= 3; ++id) members[id - 1] = std::make_unique<Member>(id, std::vector<uint64_t>{1, 2, 3});
    for (auto& m : members) {
      m->sink.forward = [this](const raft::Message& x) { members[x.to - 1]->node->Step(x); };
    }
    for (auto& m : members) m->node->Start();
  }
  // Every node stops before any goes: a node's thread may still deliver to the others.
  ~Cluster() {
    for (auto& m : members) m->node->Stop();
  }
  std::array<std::unique_ptr<Member>, 3> members;
};

// Only node 1 ticks, so it is the one that campaigns.
TEST(RaftNodeTest, ThreeNodesElectOneLeaderAndCommit) {
  Cluster cluster;
  auto& members = cluster.members;
  members[0]->Tick(kTicksToCampaign);
  for (auto& m : members) ASSERT_TRUE(m->listener.WaitForLeader(1));
  ASSERT_TRUE(members[0]->node->Propose(1, "hello").ok());
  for (auto& m : members) {
    ASSERT_TRUE(m->listener.WaitForCommitted("hello")) << "member " << m->node->id();
    EXPECT_EQ(m->listener.committed_before_durable(), 0);
    EXPECT_EQ(m->node->leader(), 1u);
  }
  EXPECT_TRUE(members[0]->node->IsLeader());
  EXPECT_FALSE(members[1]->node->IsLeader());
}

}  // namespace
}  // namespace cairn::etcdserver
