// Snapshots: log compaction, sending snapshots to followers that fell behind it, and
// installing them.
#include <gtest/gtest.h>

#include "server/raft/test_cluster.h"

namespace cairn::raft {
namespace {

bool SentSnapshotTo(const TestCluster& c, NodeId to) {
  for (const Message& m : c.trace()) {
    if (m.type == MessageType::MsgSnap && m.to == to) return true;
  }
  return false;
}

TEST(SnapshotTest, LaggingFollowerReceivesAndInstallsSnapshot) {
  TestCluster c(3);
  ASSERT_TRUE(c.Elect(1));
  c.Isolate(3);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.node(1).Propose("v" + std::to_string(i)).ok());
  c.Stabilize();
  c.SnapshotAndCompact(1);
  ASSERT_GT(c.storage(1).FirstIndex(), 2u);
  c.Heal();
  c.ClearTrace();
  c.Run(3);
  EXPECT_TRUE(SentSnapshotTo(c, 3));
  EXPECT_EQ(c.storage(3).GetSnapshot()->metadata.index, c.storage(1).FirstIndex() - 1);
  EXPECT_EQ(c.member(3).applied, c.member(1).applied);
  // Replication resumes normally after the snapshot.
  ASSERT_TRUE(c.node(1).Propose("after").ok());
  c.Stabilize();
  EXPECT_EQ(c.member(3).applied.back(), "after");
  EXPECT_EQ(c.node(1).GetStatus().progress.at(3).state, ProgressState::kReplicate);
}

TEST(SnapshotTest, FailedSnapshotIsRetriedAfterReport) {
  TestCluster c(3);
  ASSERT_TRUE(c.Elect(1));
  c.Isolate(3);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.node(1).Propose("v").ok());
  c.Stabilize();
  c.SnapshotAndCompact(1);
  c.Heal();
  c.SetFilter([](const Message& m) { return m.type == MessageType::MsgSnap; });
  c.Run(2);
  ASSERT_EQ(c.node(1).GetStatus().progress.at(3).state, ProgressState::kSnapshot);
  c.node(1).ReportSnapshot(3, false);
  EXPECT_EQ(c.node(1).GetStatus().progress.at(3).state, ProgressState::kProbe);
  c.Heal();
  c.Run(3);
  EXPECT_EQ(c.member(3).applied.size(), 5u);
}

TEST(SnapshotTest, StaleSnapshotIsNotInstalled) {
  TestCluster c(3);
  ASSERT_TRUE(c.Elect(1));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.node(1).Propose("v").ok());
  c.Stabilize();
  Message m;
  m.type = MessageType::MsgSnap;
  m.from = 1;
  m.to = 2;
  m.term = 1;
  m.snapshot.metadata.index = 2;
  m.snapshot.metadata.term = 1;
  m.snapshot.metadata.conf_state = ConfState{{1, 2, 3}, {}};
  ASSERT_TRUE(c.node(2).Step(m).ok());
  c.ProcessReadys();
  EXPECT_EQ(c.storage(2).GetSnapshot()->metadata.index, 0u);
  ASSERT_FALSE(c.queue().empty());
  EXPECT_EQ(c.queue().back().type, MessageType::MsgAppResp);
  EXPECT_EQ(c.queue().back().index, 4u) << "answers with its commit index";
}

TEST(SnapshotTest, RestartFromSnapshotRestoresStateAndMembership) {
  TestCluster c(3);
  ASSERT_TRUE(c.Elect(1));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(c.node(1).Propose("v" + std::to_string(i)).ok());
  c.Stabilize();
  c.SnapshotAndCompact(2);
  c.Restart(2);
  EXPECT_EQ(c.member(2).applied.size(), 4u);
  EXPECT_EQ(c.node(2).GetStatus().commit, 5u);
  ASSERT_TRUE(c.node(1).Propose("more").ok());
  c.Stabilize();
  EXPECT_EQ(c.member(2).applied.back(), "more");
}

}  // namespace
}  // namespace cairn::raft
