// Leader transfer (Raft thesis §3.10): MsgTimeoutNow once the transferee is caught up;
// refused to learners and unknown members; aborted after an election timeout.
#include <gtest/gtest.h>

#include "server/raft/errors.h"
#include "server/raft/test_cluster.h"

namespace cairn::raft {
namespace {

TEST(LeaderTransferTest, TransferToUpToDateFollower) {
  TestCluster c(3);
  ASSERT_TRUE(c.Elect(1));
  c.node(1).TransferLeader(2);
  c.Stabilize();
  EXPECT_EQ(c.Leader(), 2u);
  EXPECT_EQ(c.node(1).GetStatus().lead, 2u);
  EXPECT_EQ(c.node(2).GetStatus().term, 2u);
}

TEST(LeaderTransferTest, LaggingTransfereeCatchesUpFirst) {
  TestCluster c(3);
  ASSERT_TRUE(c.Elect(1));
  c.Isolate(3);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.node(1).Propose("x").ok());
  c.Stabilize();
  c.Heal();
  c.node(1).TransferLeader(3);
  c.Stabilize();
  EXPECT_EQ(c.Leader(), 3u);
  EXPECT_EQ(c.member(3).applied.size(), 5u);
}

TEST(LeaderTransferTest, ProposalsAreDroppedDuringTransfer) {
  TestCluster c(3);
  ASSERT_TRUE(c.Elect(1));
  c.Isolate(3);
  c.node(1).TransferLeader(3);
  EXPECT_EQ(c.node(1).GetStatus().lead_transferee, 3u);
  EXPECT_EQ(c.node(1).Propose("x"), kErrProposalDropped);
}

TEST(LeaderTransferTest, TransferIsAbortedAfterElectionTimeout) {
  TestCluster c(3);
  ASSERT_TRUE(c.Elect(1));
  c.Isolate(3);
  c.node(1).TransferLeader(3);
  for (int i = 0; i < 10; ++i) {
    c.Tick(1);
    c.Stabilize();
  }
  EXPECT_EQ(c.node(1).GetStatus().lead_transferee, kNoNode);
  EXPECT_EQ(c.Leader(), 1u);
  EXPECT_TRUE(c.node(1).Propose("x").ok());
}

TEST(LeaderTransferTest, TransferToUnknownNodeOrSelfIsIgnored) {
  TestCluster c(3);
  ASSERT_TRUE(c.Elect(1));
  c.node(1).TransferLeader(9);
  EXPECT_EQ(c.node(1).GetStatus().lead_transferee, kNoNode);
  c.node(1).TransferLeader(1);
  EXPECT_EQ(c.node(1).GetStatus().lead_transferee, kNoNode);
  c.Stabilize();
  EXPECT_EQ(c.Leader(), 1u);
}

TEST(LeaderTransferTest, RequestOnFollowerIsForwardedToLeader) {
  TestCluster c(3);
  ASSERT_TRUE(c.Elect(1));
  c.node(2).TransferLeader(2);
  c.Stabilize();
  EXPECT_EQ(c.Leader(), 2u);
}

TEST(LeaderTransferTest, TimeoutNowBypassesLeaderLease) {
  // The transferee's vote requests carry the transfer context, so followers that still
  // hear from the old leader vote anyway.
  TestCluster c(5);
  ASSERT_TRUE(c.Elect(1));
  c.node(1).TransferLeader(4);
  c.Stabilize();
  EXPECT_EQ(c.Leader(), 4u);
}

}  // namespace
}  // namespace cairn::raft
