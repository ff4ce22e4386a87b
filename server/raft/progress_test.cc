// Progress, Inflights and quorum arithmetic.
#include "server/raft/progress.h"

#include <gtest/gtest.h>

#include "server/raft/quorum.h"

namespace cairn::raft {
namespace {

TEST(ProgressTest, ProbeRejectionMovesNextToHint) {
  Progress p(10, 4, false);
  EXPECT_FALSE(p.MaybeDecrTo(5, 3)) << "stale: not the last probe (next-1 == 9)";
  EXPECT_TRUE(p.MaybeDecrTo(9, 3));
  EXPECT_EQ(p.next, 4u);
  EXPECT_TRUE(p.MaybeDecrTo(3, 100));
  EXPECT_EQ(p.next, 3u) << "never past the rejected index";
}

TEST(ProgressTest, ReplicateRejectionFallsBackToMatch) {
  Progress p(10, 4, false);
  p.MaybeUpdate(5);
  p.BecomeReplicate();
  EXPECT_FALSE(p.MaybeDecrTo(4, 0)) << "at or below match: stale";
  EXPECT_TRUE(p.MaybeDecrTo(8, 0));
  EXPECT_EQ(p.next, 6u);
}

TEST(ProgressTest, PauseRules) {
  Progress p(1, 2, false);
  EXPECT_FALSE(p.IsPaused());
  p.probe_sent = true;
  EXPECT_TRUE(p.IsPaused());
  p.BecomeReplicate();
  EXPECT_FALSE(p.IsPaused());
  p.inflights.Add(1);
  p.inflights.Add(2);
  EXPECT_TRUE(p.IsPaused());
  p.inflights.FreeLE(1);
  EXPECT_FALSE(p.IsPaused());
  p.BecomeSnapshot(7);
  EXPECT_TRUE(p.IsPaused());
  p.BecomeProbe();
  EXPECT_EQ(p.next, 8u) << "resume after the snapshot";
}

TEST(ProgressTest, InflightsFreeInOrder) {
  Inflights in(3);
  in.Add(5);
  in.Add(7);
  in.Add(9);
  EXPECT_TRUE(in.Full());
  in.FreeLE(7);
  EXPECT_EQ(in.Count(), 1u);
  in.FreeFirstOne();
  EXPECT_EQ(in.Count(), 0u);
}

TEST(QuorumTest, CommittedIndexIsMajorityMinimum) {
  std::map<NodeId, Index> acked{{1, 5}, {2, 3}, {3, 9}, {4, 1}, {5, 7}};
  auto f = [&acked](NodeId id) { return acked[id]; };
  EXPECT_EQ(CommittedIndex({1, 2, 3, 4, 5}, f), 5u);
  EXPECT_EQ(CommittedIndex({1, 2, 3, 4}, f), 3u);
  EXPECT_EQ(CommittedIndex({3}, f), 9u);
}

TEST(QuorumTest, TallyVotes) {
  EXPECT_EQ(TallyVotes({1, 2, 3}, {{1, true}}), VoteResult::kPending);
  EXPECT_EQ(TallyVotes({1, 2, 3}, {{1, true}, {2, true}}), VoteResult::kWon);
  EXPECT_EQ(TallyVotes({1, 2, 3}, {{1, true}, {2, false}, {3, false}}), VoteResult::kLost);
  EXPECT_EQ(TallyVotes({1, 2, 3, 4}, {{1, true}, {2, true}, {3, false}}), VoteResult::kPending);
  EXPECT_EQ(TallyVotes({1, 2}, {{1, true}, {9, true}}), VoteResult::kPending) << "non-voters ignored";
}

}  // namespace
}  // namespace cairn::raft
