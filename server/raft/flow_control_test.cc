// Flow control: the inflight window, the per-message byte limit and the probe pause.
#include <gtest/gtest.h>

#include "server/raft/test_cluster.h"

namespace cairn::raft {
namespace {

size_t CountAppsTo(const std::deque<Message>& q, NodeId to) {
  size_t n = 0;
  for (const Message& m : q) n += m.type == MessageType::MsgApp && m.to == to && !m.entries.empty();
  return n;
}

TEST(FlowControlTest, ReplicateStateIsBoundedByMaxInflight) {
  TestCluster c(3, 0, [](Config& cfg) { cfg.max_inflight_msgs = 3; });
  ASSERT_TRUE(c.Elect(1));
  ASSERT_EQ(c.node(1).GetStatus().progress.at(2).state, ProgressState::kReplicate);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(c.node(1).Propose("x").ok());
    c.ProcessReadys();
  }
  EXPECT_EQ(CountAppsTo(c.queue(), 2), 3u);
  // Acks open the window again and the rest flows.
  c.Stabilize();
  EXPECT_EQ(c.member(2).applied.size(), 10u);
}

TEST(FlowControlTest, HeartbeatResponseFreesOneInflightSlotWhenFull) {
  TestCluster c(2, 0, [](Config& cfg) { cfg.max_inflight_msgs = 1; });
  ASSERT_TRUE(c.Elect(1));
  c.SetFilter([](const Message& m) { return m.type == MessageType::MsgAppResp; });
  ASSERT_TRUE(c.node(1).Propose("a").ok());
  ASSERT_TRUE(c.node(1).Propose("b").ok());
  c.Stabilize();
  EXPECT_EQ(c.node(1).GetStatus().progress.at(2).match, 1u);
  c.ClearTrace();
  c.Tick(1);  // Heartbeat; its response frees the slot and "b" is sent.
  c.Stabilize();
  size_t apps = 0;
  for (const Message& m : c.trace()) apps += m.type == MessageType::MsgApp && m.to == 2;
  EXPECT_GE(apps, 1u);
}

TEST(FlowControlTest, MessagesRespectMaxSizePerMsg) {
  TestCluster c(3, 0, [](Config& cfg) { cfg.max_size_per_msg = 1000; });
  ASSERT_TRUE(c.Elect(1));
  c.Isolate(3);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(c.node(1).Propose(std::string(256, 'p')).ok());
  c.Stabilize();
  c.Heal();
  c.ClearTrace();
  c.Run(2);
  size_t apps = 0;
  for (const Message& m : c.trace()) {
    if (m.type != MessageType::MsgApp || m.to != 3 || m.entries.empty()) continue;
    ++apps;
    uint64_t bytes = 0;
    for (const Entry& e : m.entries) bytes += EntrySize(e);
    EXPECT_TRUE(bytes <= 1000 || m.entries.size() == 1);
  }
  EXPECT_GE(apps, 6u);
  EXPECT_EQ(c.member(3).applied.size(), 20u);
}

TEST(FlowControlTest, ProbeStateSendsOneMessageUntilAnswered) {
  TestCluster c(3);
  c.SetFilter([](const Message& m) { return m.from == 3 && m.type == MessageType::MsgAppResp; });
  ASSERT_TRUE(c.Elect(1));
  ASSERT_EQ(c.node(1).GetStatus().progress.at(3).state, ProgressState::kProbe);
  c.ClearTrace();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.node(1).Propose("x").ok());
  c.Stabilize();
  size_t apps = 0;
  for (const Message& m : c.trace()) apps += m.type == MessageType::MsgApp && m.to == 3;
  EXPECT_EQ(apps, 0u) << "the election's probe is still unanswered";
  c.Heal();
  c.Tick(1);
  c.Stabilize();
  EXPECT_EQ(c.node(1).GetStatus().progress.at(3).state, ProgressState::kReplicate);
  EXPECT_EQ(c.member(3).applied.size(), 5u);
}

TEST(FlowControlTest, UnreachableFollowerDropsBackToProbe) {
  TestCluster c(3);
  ASSERT_TRUE(c.Elect(1));
  ASSERT_EQ(c.node(1).GetStatus().progress.at(2).state, ProgressState::kReplicate);
  c.node(1).ReportUnreachable(2);
  EXPECT_EQ(c.node(1).GetStatus().progress.at(2).state, ProgressState::kProbe);
}

}  // namespace
}  // namespace cairn::raft
