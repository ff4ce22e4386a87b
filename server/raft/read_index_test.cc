// ReadIndex (Raft thesis §6.4): linearizable reads confirmed by a heartbeat quorum.
#include <gtest/gtest.h>

#include "server/raft/test_cluster.h"

namespace cairn::raft {
namespace {

TEST(ReadIndexTest, LeaderConfirmsWithHeartbeatQuorum) {
  TestCluster c(3);
  ASSERT_TRUE(c.Elect(1));
  ASSERT_TRUE(c.node(1).Propose("x").ok());
  c.Stabilize();
  c.node(1).ReadIndex("r1");
  c.ProcessReadys();
  EXPECT_TRUE(c.member(1).read_states.empty()) << "not before the heartbeat round";
  size_t hbs = 0;
  for (const Message& m : c.queue()) hbs += m.type == MessageType::MsgHeartbeat && m.context == "r1";
  EXPECT_EQ(hbs, 2u);
  c.Stabilize();
  ASSERT_EQ(c.member(1).read_states.size(), 1u);
  EXPECT_EQ(c.member(1).read_states[0], (ReadState{c.node(1).GetStatus().commit, "r1"}));
}

TEST(ReadIndexTest, NoReadStateWithoutQuorum) {
  TestCluster c(3);
  ASSERT_TRUE(c.Elect(1));
  c.Isolate(1);
  c.node(1).ReadIndex("r1");
  c.Stabilize();
  EXPECT_TRUE(c.member(1).read_states.empty());
}

TEST(ReadIndexTest, FreshLeaderDefersUntilItCommitsInItsTerm) {
  TestCluster c(3);
  c.SetFilter([](const Message& m) { return m.type == MessageType::MsgAppResp; });
  ASSERT_TRUE(c.Elect(1));
  ASSERT_EQ(c.node(1).GetStatus().commit, 0u);
  c.node(1).ReadIndex("r1");
  c.Stabilize();
  EXPECT_TRUE(c.member(1).read_states.empty());
  c.Heal();
  c.Tick(1);  // Heartbeat responses make the leader resend; acks commit its empty entry.
  c.Stabilize();
  ASSERT_EQ(c.member(1).read_states.size(), 1u);
  EXPECT_EQ(c.member(1).read_states[0].index, 1u);
}

TEST(ReadIndexTest, FollowerRequestIsForwardedAndAnswered) {
  TestCluster c(3);
  ASSERT_TRUE(c.Elect(1));
  ASSERT_TRUE(c.node(1).Propose("x").ok());
  c.Stabilize();
  c.node(2).ReadIndex("f1");
  c.Stabilize();
  ASSERT_EQ(c.member(2).read_states.size(), 1u);
  EXPECT_EQ(c.member(2).read_states[0], (ReadState{2, "f1"}));
  EXPECT_TRUE(c.member(1).read_states.empty());
}

TEST(ReadIndexTest, FollowerWithoutLeaderDropsRequest) {
  TestCluster c(3);
  c.node(2).ReadIndex("f1");
  c.Stabilize();
  EXPECT_TRUE(c.member(2).read_states.empty());
}

TEST(ReadIndexTest, SingleVoterAnswersImmediately) {
  TestCluster c(1);
  ASSERT_TRUE(c.Elect(1));
  c.node(1).ReadIndex("s");
  c.Stabilize();
  ASSERT_EQ(c.member(1).read_states.size(), 1u);
  EXPECT_EQ(c.member(1).read_states[0], (ReadState{1, "s"}));
}

TEST(ReadIndexTest, LaterAckConfirmsEarlierRequests) {
  TestCluster c(3);
  ASSERT_TRUE(c.Elect(1));
  c.SetFilter([](const Message& m) { return m.type == MessageType::MsgHeartbeatResp; });
  c.node(1).ReadIndex("a");
  c.Stabilize();
  c.Heal();
  c.node(1).ReadIndex("b");
  c.Stabilize();
  ASSERT_EQ(c.member(1).read_states.size(), 2u);
  EXPECT_EQ(c.member(1).read_states[0].request_ctx, "a");
  EXPECT_EQ(c.member(1).read_states[1].request_ctx, "b");
}

}  // namespace
}  // namespace cairn::raft
