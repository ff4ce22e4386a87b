// Leader election (Raft §5.2) and the election restriction (§5.4.1).
#include <gtest/gtest.h>

#include <map>

#include "server/raft/prng.h"
#include "server/raft/test_cluster.h"
#include "server/raft/to_string.h"

namespace cairn::raft {
namespace {

TEST(ElectionTest, FollowerCampaignsAfterElectionTimeoutAndWins) {
  TestCluster c(3);
  c.Tick(1, 20);  // Past any randomized timeout in [10, 20).
  c.Stabilize();
  EXPECT_EQ(c.Leader(), 1u);
  for (NodeId id : c.ids()) {
    EXPECT_EQ(c.node(id).GetStatus().lead, 1u);
    EXPECT_EQ(c.node(id).GetStatus().term, 1u);
  }
}

TEST(ElectionTest, RandomizedTimeoutIsWithinOneToTwoElectionTicks) {
  std::map<int, int> seen;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    TestCluster c(3, 0, [seed](Config& cfg) { cfg.seed = seed; });
    int ticks = 0;
    while (c.node(1).GetStatus().role == Role::kFollower && ticks < 100) {
      c.Tick(1);
      ++ticks;
    }
    EXPECT_GE(ticks, 10);
    EXPECT_LT(ticks, 20);
    seen[ticks]++;
  }
  EXPECT_GT(seen.size(), 3u) << "timeouts should be spread out";
}

TEST(ElectionTest, VotesAtMostOncePerTerm) {
  TestCluster c(3);
  Message v;
  v.type = MessageType::MsgVote;
  v.term = 1;
  v.from = 2;
  v.to = 1;
  ASSERT_TRUE(c.node(1).Step(v).ok());
  v.from = 3;
  ASSERT_TRUE(c.node(1).Step(v).ok());
  c.ProcessReadys();
  ASSERT_EQ(c.queue().size(), 2u);
  EXPECT_EQ(c.queue()[0].to, 2u);
  EXPECT_FALSE(c.queue()[0].reject);
  EXPECT_EQ(c.queue()[1].to, 3u);
  EXPECT_TRUE(c.queue()[1].reject);
  EXPECT_EQ(c.storage(1).hard_state().vote, 2u);
}

TEST(ElectionTest, ElectionRestrictionRejectsCandidateWithStaleLog) {
  for (bool pre_vote : {false, true}) {
    // Without the lease, so only the logs decide the votes.
    TestCluster c(3, 0, [pre_vote](Config& cfg) {
      cfg.pre_vote = pre_vote;
      cfg.check_quorum = false;
    });
    ASSERT_TRUE(c.Elect(1));
    c.Isolate(3);
    ASSERT_TRUE(c.node(1).Propose("x").ok());
    c.Stabilize();
    c.Heal();
    // Node 3 misses "x": it must not win, whatever its term.
    c.Isolate(1);
    ASSERT_TRUE(c.node(3).Campaign().ok());
    c.Stabilize();
    EXPECT_NE(c.node(3).GetStatus().role, Role::kLeader) << "pre_vote=" << pre_vote;
    ASSERT_TRUE(c.Elect(2));
    EXPECT_EQ(c.member(2).applied, std::vector<std::string>{"x"});
  }
}

TEST(ElectionTest, LeaderCompletenessNewLeaderHasAllCommittedEntries) {
  TestCluster c(5);
  ASSERT_TRUE(c.Elect(1));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.node(1).Propose("e" + std::to_string(i)).ok());
  c.Stabilize();
  const Index committed = c.node(1).GetStatus().commit;
  c.Isolate(1);
  c.Run(40);
  const NodeId leader = c.Leader();
  ASSERT_NE(leader, kNoNode);
  ASSERT_NE(leader, 1u);
  EXPECT_GE(c.node(leader).GetStatus().commit, committed);
  EXPECT_EQ(c.member(leader).applied.size(), 5u);
}

TEST(ElectionTest, CandidateStepsDownOnAppendFromLeaderOfSameTerm) {
  TestCluster c(3, 0, [](Config& cfg) { cfg.pre_vote = false; });
  ASSERT_TRUE(c.node(2).Campaign().ok());
  c.ProcessReadys();
  c.queue().clear();
  ASSERT_EQ(c.node(2).GetStatus().role, Role::kCandidate);
  Message app;
  app.type = MessageType::MsgApp;
  app.from = 3;
  app.to = 2;
  app.term = c.node(2).GetStatus().term;
  ASSERT_TRUE(c.node(2).Step(app).ok());
  EXPECT_EQ(c.node(2).GetStatus().role, Role::kFollower);
  EXPECT_EQ(c.node(2).GetStatus().lead, 3u);
}

// Election safety (§5.2): at most one leader can be elected in a given term, under random
// message loss and random timeouts.
TEST(ElectionTest, ElectionSafetyAtMostOneLeaderPerTerm) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    Prng rng(seed);
    TestCluster c(5, 0, [seed](Config& cfg) { cfg.seed = seed * 7 + cfg.id; });
    c.SetFilter([&rng](const Message&) { return rng.Uniform(4) == 0; });
    std::map<Term, NodeId> leader_of_term;
    for (int round = 0; round < 200; ++round) {
      c.Tick(1 + rng.Uniform(5));
      c.ProcessReadys();
      c.DeliverQueued();
      for (NodeId id : c.ids()) {
        NodeStatus st = c.node(id).GetStatus();
        if (st.role != Role::kLeader) continue;
        auto [it, inserted] = leader_of_term.emplace(st.term, id);
        EXPECT_EQ(it->second, id) << "two leaders in term " << st.term << " seed " << seed;
      }
    }
  }
}

}  // namespace
}  // namespace cairn::raft
