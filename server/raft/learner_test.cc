// Learners receive the log but never vote, never campaign and never count in a quorum.
#include <gtest/gtest.h>

#include "server/raft/test_cluster.h"

namespace cairn::raft {
namespace {

TEST(LearnerTest, LearnerReceivesTheLog) {
  TestCluster c(2, 1);
  ASSERT_TRUE(c.Elect(1));
  ASSERT_TRUE(c.node(1).Propose("x").ok());
  c.Stabilize();
  EXPECT_EQ(c.member(3).applied, std::vector<std::string>{"x"});
  EXPECT_TRUE(c.node(1).GetStatus().progress.at(3).is_learner);
}

TEST(LearnerTest, LearnerNeverCampaigns) {
  TestCluster c(2, 1);
  c.Tick(3, 100);
  c.ProcessReadys();
  EXPECT_TRUE(c.queue().empty());
  EXPECT_EQ(c.node(3).GetStatus().role, Role::kFollower);
  ASSERT_TRUE(c.node(3).Campaign().ok());
  c.ProcessReadys();
  EXPECT_TRUE(c.queue().empty());
}

TEST(LearnerTest, VoteRequestsGoOnlyToVoters) {
  TestCluster c(2, 1);
  ASSERT_TRUE(c.node(1).Campaign().ok());
  c.ProcessReadys();
  for (const Message& m : c.queue()) EXPECT_NE(m.to, 3u);
}

TEST(LearnerTest, LearnerAckDoesNotCountTowardsCommit) {
  TestCluster c(2, 1);
  ASSERT_TRUE(c.Elect(1));
  const Index before = c.node(1).GetStatus().commit;
  c.Isolate(2);
  ASSERT_TRUE(c.node(1).Propose("x").ok());
  c.Stabilize();
  EXPECT_EQ(c.node(1).GetStatus().progress.at(3).match, before + 1);
  EXPECT_EQ(c.node(1).GetStatus().commit, before);
  c.Heal();
  c.Stabilize();
  c.Tick(1);
  c.Stabilize();
  EXPECT_EQ(c.node(1).GetStatus().commit, before + 1);
}

TEST(LearnerTest, LeaderTransferToLearnerIsRefused) {
  TestCluster c(2, 1);
  ASSERT_TRUE(c.Elect(1));
  c.node(1).TransferLeader(3);
  EXPECT_EQ(c.node(1).GetStatus().lead_transferee, kNoNode);
  c.Stabilize();
  EXPECT_EQ(c.Leader(), 1u);
}

}  // namespace
}  // namespace cairn::raft
