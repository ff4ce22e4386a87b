// Check-quorum and the leader lease: a leader that lost contact with a quorum steps down,
// and followers that hear from a live leader ignore vote requests.
#include <gtest/gtest.h>

#include "server/raft/test_cluster.h"

namespace cairn::raft {
namespace {

TEST(CheckQuorumTest, LeaderStepsDownWithoutQuorumContact) {
  TestCluster c(3);
  ASSERT_TRUE(c.Elect(1));
  c.Isolate(1);
  // Two check-quorum rounds: the first clears recent_active, the second finds nobody.
  for (int i = 0; i < 2 * 10 + 1; ++i) {
    c.Tick(1);
    c.Stabilize();
  }
  EXPECT_EQ(c.node(1).GetStatus().role, Role::kFollower);
}

TEST(CheckQuorumTest, LeaderKeepsLeadershipWhileQuorumResponds) {
  TestCluster c(3);
  ASSERT_TRUE(c.Elect(1));
  c.Isolate(3);
  for (int i = 0; i < 100; ++i) {
    c.Tick(1);
    c.Stabilize();
  }
  EXPECT_EQ(c.node(1).GetStatus().role, Role::kLeader);
}

TEST(CheckQuorumTest, FollowerWithLiveLeaderIgnoresVotes) {
  TestCluster c(3, 0, [](Config& cfg) { cfg.pre_vote = false; });
  ASSERT_TRUE(c.Elect(1));
  Message v;
  v.type = MessageType::MsgVote;
  v.from = 3;
  v.to = 2;
  v.term = 5;
  v.index = 100;
  v.log_term = 5;
  ASSERT_TRUE(c.node(2).Step(v).ok());
  EXPECT_EQ(c.node(2).GetStatus().term, 1u) << "leader lease: the vote is ignored";
  c.ProcessReadys();
  for (const Message& m : c.queue()) EXPECT_NE(m.type, MessageType::MsgVoteResp);
  c.queue().clear();
  // Once the lease expires (no heartbeat for an election timeout), the vote counts.
  c.Isolate(1);
  c.Tick(2, 10);
  ASSERT_TRUE(c.node(2).Step(v).ok());
  EXPECT_EQ(c.node(2).GetStatus().term, 5u);
  EXPECT_EQ(c.node(2).GetStatus().vote, 3u);
}

TEST(CheckQuorumTest, StaleLeaderLearnsNewTermFromHigherTermReply) {
  TestCluster c(3);
  ASSERT_TRUE(c.Elect(1));
  c.Isolate(1);
  c.Run(40);
  const NodeId leader = c.node(2).GetStatus().lead;
  ASSERT_TRUE(leader == 2 || leader == 3);
  c.Heal();
  c.Run(3);
  EXPECT_NE(c.node(1).GetStatus().role, Role::kLeader);
  EXPECT_EQ(c.node(1).GetStatus().term, c.node(2).GetStatus().term);
}

}  // namespace
}  // namespace cairn::raft
