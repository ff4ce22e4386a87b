// Proposals: accepted by the leader, forwarded by followers, dropped without a leader.
#include <gtest/gtest.h>

#include "server/raft/errors.h"
#include "server/raft/test_cluster.h"

namespace cairn::raft {
namespace {

TEST(ProposalTest, DroppedWithoutLeader) {
  TestCluster c(3);
  EXPECT_EQ(c.node(1).Propose("x"), kErrProposalDropped);
  EXPECT_EQ(kErrProposalDropped.message(), "raft proposal dropped");
}

TEST(ProposalTest, DroppedByCandidate) {
  TestCluster c(3, 0, [](Config& cfg) { cfg.pre_vote = false; });
  ASSERT_TRUE(c.node(1).Campaign().ok());
  ASSERT_EQ(c.node(1).GetStatus().role, Role::kCandidate);
  EXPECT_EQ(c.node(1).Propose("x"), kErrProposalDropped);
}

TEST(ProposalTest, FollowerForwardsToLeader) {
  TestCluster c(3);
  ASSERT_TRUE(c.Elect(1));
  ASSERT_TRUE(c.node(3).Propose("from-3").ok());
  c.Stabilize();
  for (NodeId id : c.ids()) EXPECT_EQ(c.member(id).applied, std::vector<std::string>{"from-3"});
}

TEST(ProposalTest, StateMachineSafetyAppliedSequencesAgree) {
  TestCluster c(5);
  ASSERT_TRUE(c.Elect(1));
  for (int i = 0; i < 20; ++i) {
    const NodeId from = 1 + static_cast<NodeId>(i % 5);
    (void)c.node(from).Propose("v" + std::to_string(i));
    if (i == 10) c.Isolate(1);
    if (i == 12) c.Run(40);
    c.Stabilize();
  }
  c.Heal();
  c.Run(5);
  for (NodeId id : c.ids()) EXPECT_EQ(c.member(id).applied, c.member(2).applied) << "node " << id;
  EXPECT_GE(c.member(2).applied.size(), 15u);
}

}  // namespace
}  // namespace cairn::raft
