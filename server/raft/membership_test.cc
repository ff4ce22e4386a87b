// Single-step membership changes: add voter, add learner, promote, remove; one pending
// change at a time; a removed leader steps down.
#include <gtest/gtest.h>

#include "server/raft/codec.h"
#include "server/raft/test_cluster.h"
#include "server/raft/to_string.h"

namespace cairn::raft {
namespace {

ConfChange Change(ConfChangeType t, NodeId id) { return ConfChange{t, id, ""}; }

// Members join by replaying the log, so the initial membership must be in it.
TestCluster Bootstrapped(int voters) { return TestCluster(voters, 0, nullptr, true); }

TEST(MembershipTest, AddVoterJoinsAndCatchesUp) {
  TestCluster c = Bootstrapped(3);
  ASSERT_TRUE(c.Elect(1));
  ASSERT_TRUE(c.node(1).Propose("before").ok());
  c.Stabilize();
  c.AddFreshNode(4);
  ASSERT_TRUE(c.node(1).ProposeConfChange(Change(ConfChangeType::kAddNode, 4)).ok());
  c.Stabilize();
  EXPECT_EQ(c.member(1).conf_state, (ConfState{{1, 2, 3, 4}, {}}));
  c.Run(2);
  EXPECT_EQ(c.member(4).applied, std::vector<std::string>{"before"});
  EXPECT_EQ(c.member(4).conf_state, (ConfState{{1, 2, 3, 4}, {}}));
  // Four voters: a quorum is three, so two failures block commits.
  c.Isolate(3);
  c.Isolate(4);
  ASSERT_TRUE(c.node(1).Propose("blocked").ok());
  c.Stabilize();
  EXPECT_EQ(c.member(1).applied.size(), 1u);
}

TEST(MembershipTest, AddLearnerThenPromote) {
  TestCluster c = Bootstrapped(3);
  ASSERT_TRUE(c.Elect(1));
  c.AddFreshNode(4);
  ASSERT_TRUE(c.node(1).ProposeConfChange(Change(ConfChangeType::kAddLearnerNode, 4)).ok());
  c.Stabilize();
  EXPECT_EQ(c.member(1).conf_state, (ConfState{{1, 2, 3}, {4}}));
  ASSERT_TRUE(c.node(1).ProposeConfChange(Change(ConfChangeType::kAddNode, 4)).ok());
  c.Stabilize();
  EXPECT_EQ(c.member(1).conf_state, (ConfState{{1, 2, 3, 4}, {}}));
  EXPECT_EQ(c.member(4).conf_state, (ConfState{{1, 2, 3, 4}, {}}));
  EXPECT_FALSE(c.node(1).GetStatus().progress.at(4).is_learner);
}

TEST(MembershipTest, RemoveVoterShrinksQuorum) {
  TestCluster c = Bootstrapped(3);
  ASSERT_TRUE(c.Elect(1));
  ASSERT_TRUE(c.node(1).ProposeConfChange(Change(ConfChangeType::kRemoveNode, 3)).ok());
  c.Stabilize();
  EXPECT_EQ(c.member(1).conf_state, (ConfState{{1, 2}, {}}));
  EXPECT_EQ(c.node(1).GetStatus().progress.count(3), 0u);
  c.Isolate(3);
  ASSERT_TRUE(c.node(1).Propose("x").ok());
  c.Stabilize();
  EXPECT_EQ(c.member(2).applied, std::vector<std::string>{"x"});
}

TEST(MembershipTest, SecondPendingConfChangeBecomesNoop) {
  TestCluster c = Bootstrapped(3);
  ASSERT_TRUE(c.Elect(1));
  c.AddFreshNode(4);
  c.AddFreshNode(5);
  ASSERT_TRUE(c.node(1).ProposeConfChange(Change(ConfChangeType::kAddLearnerNode, 4)).ok());
  ASSERT_TRUE(c.node(1).ProposeConfChange(Change(ConfChangeType::kAddLearnerNode, 5)).ok());
  c.Stabilize();
  EXPECT_EQ(c.member(1).conf_state, (ConfState{{1, 2, 3}, {4}}));
  size_t conf_entries = 0;
  // Entries 1..3 are the bootstrap membership.
  auto ents = c.storage(1).Entries(4, c.storage(1).LastIndex() + 1, UINT64_MAX);
  for (const Entry& e : *ents) conf_entries += e.type == EntryType::kConfChange;
  EXPECT_EQ(conf_entries, 1u);
  // Once the first is applied, another is accepted.
  ASSERT_TRUE(c.node(1).ProposeConfChange(Change(ConfChangeType::kAddLearnerNode, 5)).ok());
  c.Stabilize();
  EXPECT_EQ(c.member(1).conf_state, (ConfState{{1, 2, 3}, {4, 5}}));
}

TEST(MembershipTest, RemovedLeaderStepsDownAndOthersElectANewOne) {
  TestCluster c = Bootstrapped(3);
  ASSERT_TRUE(c.Elect(1));
  ASSERT_TRUE(c.node(1).ProposeConfChange(Change(ConfChangeType::kRemoveNode, 1)).ok());
  c.Stabilize();
  EXPECT_NE(c.node(1).GetStatus().role, Role::kLeader);
  EXPECT_EQ(c.node(1).Propose("x"), Status(StatusCode::kUnavailable, "raft proposal dropped"));
  c.Isolate(1);
  c.Run(40);
  const NodeId leader = c.Leader();
  ASSERT_TRUE(leader == 2 || leader == 3) << leader;
  ASSERT_TRUE(c.node(leader).Propose("y").ok());
  c.Stabilize();
  EXPECT_EQ(c.member(2).applied, std::vector<std::string>{"y"});
  EXPECT_EQ(c.member(2).conf_state, (ConfState{{2, 3}, {}}));
}

TEST(MembershipTest, RemovedFollowerCannotCampaign) {
  TestCluster c = Bootstrapped(3);
  ASSERT_TRUE(c.Elect(1));
  ASSERT_TRUE(c.node(1).ProposeConfChange(Change(ConfChangeType::kRemoveNode, 3)).ok());
  c.Stabilize();
  c.Tick(3, 100);
  c.ProcessReadys();
  for (const Message& m : c.queue()) EXPECT_NE(m.from, 3u) << ToString(m);
}

TEST(MembershipTest, ReAddRemovedNodeAsLearner) {
  TestCluster c = Bootstrapped(3);
  ASSERT_TRUE(c.Elect(1));
  ASSERT_TRUE(c.node(1).ProposeConfChange(Change(ConfChangeType::kRemoveNode, 3)).ok());
  c.Stabilize();
  ASSERT_TRUE(c.node(1).Propose("while-removed").ok());
  c.Stabilize();
  ASSERT_TRUE(c.node(1).ProposeConfChange(Change(ConfChangeType::kAddLearnerNode, 3)).ok());
  c.Stabilize();
  c.Run(2);
  EXPECT_EQ(c.member(3).applied, std::vector<std::string>{"while-removed"});
  EXPECT_EQ(c.member(3).conf_state, (ConfState{{1, 2}, {3}}));
}

TEST(MembershipTest, NoCampaignWhileCommittedConfChangeIsUnapplied) {
  TestCluster c = Bootstrapped(3);
  ASSERT_TRUE(c.Elect(1));
  c.AddFreshNode(4);
  // Deliver the conf change to node 2 and let it learn the commit, but do not apply it.
  ASSERT_TRUE(c.node(1).ProposeConfChange(Change(ConfChangeType::kAddNode, 4)).ok());
  c.Stabilize();
  Message hb;
  hb.type = MessageType::MsgHeartbeat;
  hb.from = 1;
  hb.to = 2;
  hb.term = 1;
  hb.commit = c.storage(2).LastIndex();
  // Node 2 already applied everything through Stabilize; craft the situation on a restarted
  // node instead, whose applied index starts at its snapshot.
  c.Restart(2);
  ASSERT_TRUE(c.node(2).Step(hb).ok());
  ASSERT_GT(c.node(2).GetStatus().commit, c.node(2).GetStatus().applied);
  ASSERT_TRUE(c.node(2).Campaign().ok());
  EXPECT_EQ(c.node(2).GetStatus().role, Role::kFollower);
}

TEST(MembershipTest, ConfChangeCodecRoundTripInsideEntries) {
  const ConfChange cc{ConfChangeType::kAddLearnerNode, 42, "addr=10.0.0.1"};
  auto back = DecodeConfChange(EncodeConfChange(cc));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, cc);
}

}  // namespace
}  // namespace cairn::raft
