// Log replication (Raft §5.3): log matching, conflict resolution with fast back-off, and
// commitment of current-term entries only (§5.4.2, figure 8).
#include <gtest/gtest.h>

#include "server/raft/memory_storage.h"
#include "server/raft/prng.h"
#include "server/raft/raw_node.h"
#include "server/raft/test_cluster.h"
#include "server/raft/to_string.h"

namespace cairn::raft {
namespace {

std::vector<Entry> LogOf(TestCluster& c, NodeId id) {
  MemoryStorage& s = c.storage(id);
  if (s.LastIndex() < s.FirstIndex()) return {};
  return std::move(s.Entries(s.FirstIndex(), s.LastIndex() + 1, UINT64_MAX)).value();
}

TEST(ReplicationTest, ProposalsAreReplicatedAndAppliedEverywhere) {
  TestCluster c(3);
  ASSERT_TRUE(c.Elect(1));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.node(1).Propose("v" + std::to_string(i)).ok());
  c.Stabilize();
  for (NodeId id : c.ids()) {
    EXPECT_EQ(c.member(id).applied.size(), 10u);
    EXPECT_EQ(LogOf(c, id), LogOf(c, 1));
  }
}

// Log matching (§5.3): if two logs contain an entry with the same index and term, the logs
// are identical in all entries up through that index — under random loss and leader churn.
TEST(ReplicationTest, LogMatchingUnderRandomLossAndLeaderChanges) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Prng rng(seed);
    TestCluster c(5, 0, [seed](Config& cfg) { cfg.seed = seed * 31 + cfg.id; });
    c.SetFilter([&rng](const Message&) { return rng.Uniform(5) == 0; });
    for (int round = 0; round < 300; ++round) {
      const NodeId id = 1 + rng.Uniform(5);
      if (rng.Uniform(3) == 0) (void)c.node(id).Propose("p" + std::to_string(round));
      c.Tick(id);
      c.ProcessReadys();
      c.DeliverQueued();
    }
    c.ProcessReadys();
    for (NodeId a : c.ids()) {
      for (NodeId b : c.ids()) {
        const auto la = LogOf(c, a), lb = LogOf(c, b);
        // Find the last position where both have an entry with equal term; the prefixes
        // up to it must be identical.
        for (size_t i = std::min(la.size(), lb.size()); i > 0; --i) {
          if (la[i - 1].term == lb[i - 1].term) {
            for (size_t j = 0; j < i; ++j) ASSERT_EQ(la[j], lb[j]) << "seed " << seed;
            break;
          }
        }
      }
    }
  }
}

TEST(ReplicationTest, ConflictingUncommittedSuffixIsOverwritten) {
  TestCluster c(3);
  ASSERT_TRUE(c.Elect(1));
  c.Isolate(1);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.node(1).Propose("lost" + std::to_string(i)).ok());
  c.Stabilize();
  ASSERT_TRUE(c.Elect(2) || (c.Run(30), c.Leader() != 1));
  const NodeId leader = c.node(3).GetStatus().lead;
  ASSERT_TRUE(leader == 2 || leader == 3);
  ASSERT_TRUE(c.node(leader).Propose("kept").ok());
  c.Stabilize();
  c.Heal();
  c.Run(5);
  EXPECT_EQ(LogOf(c, 1), LogOf(c, leader));
  EXPECT_EQ(c.member(1).applied, std::vector<std::string>{"kept"});
}

TEST(ReplicationTest, FastBackoffSkipsWholeTermsOfConflicts) {
  TestCluster c(3, 0, [](Config& cfg) { cfg.max_inflight_msgs = 1024; });
  ASSERT_TRUE(c.Elect(1));
  c.Isolate(1);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(c.node(1).Propose("old").ok());
  c.Stabilize();
  c.Run(30);
  const NodeId leader = c.node(2).GetStatus().lead;
  ASSERT_TRUE(leader == 2 || leader == 3);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(c.node(leader).Propose("new").ok());
  c.Stabilize();
  c.ClearTrace();
  c.Heal();
  c.Run(3);
  int rejects = 0;
  for (const Message& m : c.trace()) {
    if (m.type == MessageType::MsgAppResp && m.from == 1 && m.reject) ++rejects;
  }
  EXPECT_LE(rejects, 2) << "one rejection per conflicting term, not per entry";
  EXPECT_EQ(LogOf(c, 1), LogOf(c, leader));
}

// §5.4.2: a leader never commits an entry from a previous term by counting replicas.
TEST(ReplicationTest, LeaderCommitsOnlyEntriesOfItsTerm) {
  MemoryStorage s;
  s.SetConfState(ConfState{{1, 2, 3}, {}});
  ASSERT_TRUE(s.Append({Entry{1, 1, EntryType::kNormal, ""}, Entry{1, 2, EntryType::kNormal, "x"}}).ok());
  s.SetHardState(HardState{1, kNoNode, 0});
  Config cfg;
  cfg.id = 1;
  cfg.storage = &s;
  cfg.pre_vote = false;
  auto n = std::move(RawNode::Create(cfg)).value();
  ASSERT_TRUE(n->Campaign().ok());
  Message vote;
  vote.type = MessageType::MsgVoteResp;
  vote.from = 2;
  vote.to = 1;
  vote.term = 2;
  ASSERT_TRUE(n->Step(vote).ok());
  ASSERT_EQ(n->GetStatus().role, Role::kLeader);  // Appended its empty entry 3/2.

  Message ack;
  ack.type = MessageType::MsgAppResp;
  ack.from = 2;
  ack.to = 1;
  ack.term = 2;
  ack.index = 2;
  ASSERT_TRUE(n->Step(ack).ok());
  EXPECT_EQ(n->GetStatus().commit, 0u) << "2/1 is on a majority but is not of term 2";
  ack.index = 3;
  ASSERT_TRUE(n->Step(ack).ok());
  EXPECT_EQ(n->GetStatus().commit, 3u) << "committing 3/2 commits its predecessors";
}

// Figure 8 of the Raft paper: an entry of an old term replicated on a majority can still be
// overwritten, so it must not have been treated as committed.
TEST(ReplicationTest, Figure8OldTermEntryOnMajorityIsNotCommitted) {
  TestCluster c(5, 0, [](Config& cfg) {
    cfg.pre_vote = false;
    cfg.check_quorum = false;
  });
  ASSERT_TRUE(c.Elect(1));  // Term 1, entry 1/1 committed everywhere.
  // (a) S1 replicates 2/1 to S2 only.
  c.Cut(1, 3);
  c.Cut(1, 4);
  c.Cut(1, 5);
  ASSERT_TRUE(c.node(1).Propose("a").ok());
  c.Stabilize();
  // (b) S1 crashes; S5 wins term 2 with S3, S4 but its entries reach nobody.
  c.Heal();
  c.Isolate(1);
  c.Restart(1);
  c.SetFilter([](const Message& m) { return m.from == 5 && m.type == MessageType::MsgApp; });
  ASSERT_TRUE(c.Elect(5));
  ASSERT_TRUE(c.node(5).Propose("b").ok());
  c.Stabilize();
  // (c) S5 crashes; S1 wins term 3 and replicates 2/1 (but not its own 3/3) to S3.
  c.Heal();
  c.Isolate(5);
  c.Restart(5);
  c.SetFilter([](const Message& m) { return m.from == 1 && m.type == MessageType::MsgApp; });
  (void)c.node(1).Campaign();  // Term 2 is taken by S5's voters: this attempt stalls.
  c.Stabilize();
  ASSERT_TRUE(c.Elect(1));
  ASSERT_EQ(c.node(1).GetStatus().term, 3u);
  for (NodeId to : {2, 3}) {
    Message app;
    app.type = MessageType::MsgApp;
    app.from = 1;
    app.to = to;
    app.term = 3;
    app.index = 1;
    app.log_term = 1;
    app.commit = 1;
    app.entries = {Entry{1, 2, EntryType::kNormal, "a"}};
    ASSERT_TRUE(c.node(to).Step(app).ok());
  }
  c.Stabilize();
  for (NodeId id : {1, 2, 3}) ASSERT_EQ(*c.storage(id).TermOf(2), 1u) << "node " << id;
  EXPECT_EQ(c.node(1).GetStatus().progress.at(3).match, 2u);
  EXPECT_EQ(c.node(1).GetStatus().commit, 1u) << "2/1 is on a majority but must not commit";
  // (d) S1 crashes; S5 wins term 4 and overwrites index 2 everywhere.
  c.Heal();
  c.Isolate(1);
  c.Restart(1);
  (void)c.node(5).Campaign();
  c.Stabilize();
  ASSERT_TRUE(c.Elect(5));
  c.Stabilize();
  for (NodeId id : {2, 3, 4, 5}) {
    EXPECT_EQ(*c.storage(id).TermOf(2), 2u) << "node " << id;
    for (const std::string& d : c.member(id).applied) EXPECT_NE(d, "a");
  }
}

}  // namespace
}  // namespace cairn::raft
