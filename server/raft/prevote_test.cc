// Pre-vote (Raft thesis §9.6): a node that cannot win does not disrupt the cluster.
#include <gtest/gtest.h>

#include "server/raft/test_cluster.h"

namespace cairn::raft {
namespace {

TEST(PreVoteTest, PartitionedNodeDoesNotInflateItsTerm) {
  TestCluster c(3);
  ASSERT_TRUE(c.Elect(1));
  c.Isolate(3);
  c.Tick(3, 100);
  c.Stabilize();
  EXPECT_EQ(c.node(3).GetStatus().term, 1u);
  EXPECT_EQ(c.node(3).GetStatus().role, Role::kPreCandidate);
}

TEST(PreVoteTest, RejoiningNodeDoesNotDisruptLeader) {
  TestCluster c(3, 0, [](Config& cfg) { cfg.check_quorum = false; });
  ASSERT_TRUE(c.Elect(1));
  c.Isolate(3);
  ASSERT_TRUE(c.node(1).Propose("x").ok());
  c.Stabilize();
  c.Tick(3, 100);
  c.Stabilize();
  c.Heal();
  ASSERT_TRUE(c.node(3).Campaign().ok());  // Its log is behind: the pre-vote fails.
  c.Stabilize();
  EXPECT_EQ(c.Leader(), 1u);
  EXPECT_EQ(c.node(1).GetStatus().term, 1u);
}

TEST(PreVoteTest, WithoutPreVoteRejoiningNodeBumpsTerm) {
  TestCluster c(3, 0, [](Config& cfg) {
    cfg.check_quorum = false;
    cfg.pre_vote = false;
  });
  ASSERT_TRUE(c.Elect(1));
  c.Isolate(3);
  c.Tick(3, 100);
  c.Stabilize();
  EXPECT_GT(c.node(3).GetStatus().term, 2u);
  c.Heal();
  ASSERT_TRUE(c.node(3).Campaign().ok());
  c.Stabilize();
  // The baseline the pre-vote protects against: the leader was deposed.
  EXPECT_GT(c.node(1).GetStatus().term, 1u);
}

TEST(PreVoteTest, PreVoteWinThenRealElection) {
  TestCluster c(3);
  ASSERT_TRUE(c.node(2).Campaign().ok());
  c.ProcessReadys();
  ASSERT_EQ(c.node(2).GetStatus().role, Role::kPreCandidate);
  EXPECT_EQ(c.node(2).GetStatus().term, 0u);
  c.Stabilize();
  EXPECT_EQ(c.Leader(), 2u);
  EXPECT_EQ(c.node(2).GetStatus().term, 1u);
}

TEST(PreVoteTest, PreCandidateBecomesFollowerWhenPreVoteLost) {
  TestCluster c(3, 0, [](Config& cfg) { cfg.check_quorum = false; });
  ASSERT_TRUE(c.Elect(1));
  c.Isolate(3);
  ASSERT_TRUE(c.node(1).Propose("x").ok());
  c.Stabilize();
  c.Heal();
  ASSERT_TRUE(c.node(3).Campaign().ok());
  c.ProcessReadys();
  ASSERT_EQ(c.node(3).GetStatus().role, Role::kPreCandidate);
  c.Stabilize();
  EXPECT_EQ(c.node(3).GetStatus().role, Role::kFollower);
  EXPECT_EQ(c.node(3).GetStatus().term, 1u);
}

}  // namespace
}  // namespace cairn::raft
