// RawNode contract: config validation, Ready/Advance protocol, restart from storage.
#include "server/raft/raw_node.h"

#include <gtest/gtest.h>

#include "server/raft/errors.h"
#include "server/raft/memory_storage.h"
#include "server/raft/to_string.h"

namespace cairn::raft {
namespace {

Config SingleConfig(MemoryStorage* s) {
  Config c;
  c.id = 1;
  c.storage = s;
  return c;
}

TEST(RawNodeTest, RejectsInvalidConfig) {
  MemoryStorage s;
  Config c = SingleConfig(&s);
  c.id = kNoNode;
  EXPECT_FALSE(RawNode::Create(c).ok());
  c = SingleConfig(&s);
  c.storage = nullptr;
  EXPECT_FALSE(RawNode::Create(c).ok());
  c = SingleConfig(&s);
  c.election_tick = c.heartbeat_tick;
  EXPECT_FALSE(RawNode::Create(c).ok());
  c = SingleConfig(&s);
  c.max_inflight_msgs = 0;
  EXPECT_FALSE(RawNode::Create(c).ok());
}

TEST(RawNodeTest, RejectsAppliedBeyondCommit) {
  MemoryStorage s;
  s.SetConfState(ConfState{{1}, {}});
  Config c = SingleConfig(&s);
  c.applied = 5;
  EXPECT_FALSE(RawNode::Create(c).ok());
}

TEST(RawNodeTest, SingleVoterElectsItselfAndCommits) {
  MemoryStorage s;
  s.SetConfState(ConfState{{1}, {}});
  auto n = std::move(RawNode::Create(SingleConfig(&s))).value();
  ASSERT_TRUE(n->Campaign().ok());
  ASSERT_TRUE(n->HasReady());
  Ready rd = n->GetReady();
  ASSERT_TRUE(rd.soft_state.has_value());
  EXPECT_EQ(rd.soft_state->role, Role::kLeader);
  EXPECT_EQ(rd.soft_state->lead, 1u);
  ASSERT_EQ(rd.entries.size(), 1u);  // The leader's empty entry of term 1.
  EXPECT_TRUE(rd.must_sync);
  ASSERT_TRUE(s.Append(rd.entries).ok());
  s.SetHardState(rd.hard_state);
  n->Advance(rd);

  ASSERT_TRUE(n->Propose("hello").ok());
  // The proposal must be committed in the same Ready as it is persisted, or the next.
  std::vector<Entry> committed;
  for (int i = 0; i < 2 && n->HasReady(); ++i) {
    rd = n->GetReady();
    ASSERT_TRUE(s.Append(rd.entries).ok());
    if (!rd.hard_state.empty()) s.SetHardState(rd.hard_state);
    committed.insert(committed.end(), rd.committed_entries.begin(), rd.committed_entries.end());
    n->Advance(rd);
  }
  ASSERT_FALSE(committed.empty());
  EXPECT_EQ(committed.back().data, "hello");
  EXPECT_EQ(committed.back().index, 2u);
  EXPECT_FALSE(n->HasReady());
  EXPECT_EQ(n->GetStatus().applied, 2u);
  EXPECT_EQ(n->GetStatus().commit, 2u);
}

TEST(RawNodeTest, StepRejectsLocalMessagesAndUnknownResponders) {
  MemoryStorage s;
  s.SetConfState(ConfState{{1, 2}, {}});
  auto n = std::move(RawNode::Create(SingleConfig(&s))).value();
  Message m;
  m.type = MessageType::MsgHup;
  EXPECT_EQ(n->Step(m), kErrStepLocalMsg);
  m.type = MessageType::MsgAppResp;
  m.from = 9;
  m.term = 1;
  EXPECT_EQ(n->Step(m), kErrStepPeerNotFound);
}

TEST(RawNodeTest, RestartRestoresHardStateAndLog) {
  MemoryStorage s;
  s.SetConfState(ConfState{{1}, {}});
  {
    auto n = std::move(RawNode::Create(SingleConfig(&s))).value();
    ASSERT_TRUE(n->Campaign().ok());
    ASSERT_TRUE(n->Propose("a").ok());
    Ready rd = n->GetReady();
    ASSERT_TRUE(s.Append(rd.entries).ok());
    s.SetHardState(rd.hard_state);
    n->Advance(rd);
  }
  Config c = SingleConfig(&s);
  c.applied = 1;
  auto n = std::move(RawNode::Create(c)).value();
  NodeStatus st = n->GetStatus();
  EXPECT_EQ(st.term, 1u);
  EXPECT_EQ(st.vote, 1u);
  EXPECT_EQ(st.commit, 2u);
  EXPECT_EQ(st.role, Role::kFollower);
  // Entries after `applied` are handed out again for the application to re-apply.
  Ready rd = n->GetReady();
  ASSERT_EQ(rd.committed_entries.size(), 1u);
  EXPECT_EQ(rd.committed_entries[0].data, "a");
  EXPECT_TRUE(rd.hard_state.empty());
}

TEST(RawNodeTest, ReadyReportsHardStateOnlyWhenChanged) {
  MemoryStorage s;
  s.SetConfState(ConfState{{1, 2, 3}, {}});
  auto n = std::move(RawNode::Create(SingleConfig(&s))).value();
  EXPECT_FALSE(n->HasReady());
  n->Campaign().ok();
  Ready rd = n->GetReady();
  // Pre-vote: neither term nor vote changes until the pre-election is won.
  EXPECT_TRUE(rd.hard_state.empty());
  EXPECT_EQ(rd.messages.size(), 2u);
  EXPECT_EQ(rd.messages[0].type, MessageType::MsgPreVote);
  EXPECT_EQ(rd.messages[0].term, 1u);
  n->Advance(rd);
  EXPECT_FALSE(n->HasReady());
  EXPECT_NE(ToString(rd), "");
}

}  // namespace
}  // namespace cairn::raft

namespace cairn::raft {
namespace {

// A leader of {1,2,3} that persists in parallel: its entry counts only once persisted.
class ParallelPersistTest : public ::testing::Test {
 protected:
  void SetUp() override {
    s_.SetConfState(ConfState{{1, 2, 3}, {}});
    Config c = SingleConfig(&s_);
    c.pre_vote = false;
    c.leader_persists_in_parallel = true;
    node_ = std::move(RawNode::Create(c)).value();
    ASSERT_TRUE(node_->Campaign().ok());
    Persist(node_->GetReady());
    ASSERT_TRUE(node_->Step(Reply(MessageType::MsgVoteResp, 2, 0)).ok());
    ASSERT_EQ(node_->GetSoftState().role, Role::kLeader);
    Persist(node_->GetReady());  // the leader's empty entry at index 1
    ASSERT_TRUE(node_->Step(Reply(MessageType::MsgAppResp, 2, 1)).ok());
    ASSERT_EQ(node_->GetStatus().commit, 1u);
    while (node_->HasReady()) Persist(node_->GetReady());
  }
  Message Reply(MessageType type, NodeId from, Index index) {
    Message m;
    m.type = type;
    m.from = from;
    m.to = 1;
    m.term = 1;
    m.index = index;
    return m;
  }
  void Persist(const Ready& rd) {
    ASSERT_TRUE(s_.Append(rd.entries).ok());
    if (!rd.hard_state.empty()) s_.SetHardState(rd.hard_state);
    node_->Advance(rd);
  }
  MemoryStorage s_;
  std::unique_ptr<RawNode> node_;
};

TEST_F(ParallelPersistTest, LeaderEntryCountsOnlyOncePersisted) {
  ASSERT_TRUE(node_->Propose("x").ok());
  Ready rd = node_->GetReady();
  ASSERT_EQ(rd.entries.size(), 1u);
  ASSERT_EQ(rd.entries[0].index, 2u);
  // One durable follower copy plus the leader's unpersisted one is not a quorum.
  ASSERT_TRUE(node_->Step(Reply(MessageType::MsgAppResp, 2, 2)).ok());
  EXPECT_EQ(node_->GetStatus().commit, 1u);
  Persist(rd);
  EXPECT_EQ(node_->GetStatus().commit, 2u);
}

TEST_F(ParallelPersistTest, TwoDurableFollowersCommitWithoutTheLeadersCopy) {
  ASSERT_TRUE(node_->Propose("y").ok());
  Ready rd = node_->GetReady();
  ASSERT_TRUE(node_->Step(Reply(MessageType::MsgAppResp, 2, 2)).ok());
  ASSERT_TRUE(node_->Step(Reply(MessageType::MsgAppResp, 3, 2)).ok());
  EXPECT_EQ(node_->GetStatus().commit, 2u);
  Persist(rd);
}

TEST(CanSendBeforePersistTest, OnlyLeaderReplicationMessages) {
  EXPECT_TRUE(CanSendBeforePersist(MessageType::MsgApp));
  EXPECT_TRUE(CanSendBeforePersist(MessageType::MsgHeartbeat));
  for (auto t : {MessageType::MsgAppResp, MessageType::MsgVote, MessageType::MsgVoteResp, MessageType::MsgPreVoteResp,
                 MessageType::MsgHeartbeatResp, MessageType::MsgSnap, MessageType::MsgTimeoutNow,
                 MessageType::MsgReadIndexResp}) {
    EXPECT_FALSE(CanSendBeforePersist(t)) << ToString(t);
  }
}

}  // namespace
}  // namespace cairn::raft
