#include "server/etcdserver/read_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "server/etcdserver/errors.h"

namespace cairn::etcdserver {
namespace {

using Clock = ReadLoop::Clock;

// Stands in for the Raft node: records the ReadIndex contexts asked for and how often
// the loop asked to be driven.
struct FakeRaftNode {
  std::vector<std::string> read_index_requests;
  int wakes = 0;
  ReadLoop::RequestReadIndex AsRequester() {
    return [this](std::string ctx) { read_index_requests.push_back(std::move(ctx)); };
  }
};

// One reader's outcome, unset while it waits.
struct Outcome {
  std::optional<Status> status;
  ReadLoop::Done Callback() {
    return [this](Status st) { status = std::move(st); };
  }
};

class ReadLoopTest : public ::testing::Test {
 protected:
  std::atomic<uint64_t> applied_{0};
  FakeRaftNode raft_;
  ReadLoop loop_{&applied_, [this] { ++raft_.wakes; }};
  const Clock::time_point t0_ = Clock::now();
  const Clock::time_point deadline_ = t0_ + std::chrono::seconds(10);

  void Apply(uint64_t index) {
    applied_ = index;
    loop_.OnApplied(index);
  }
};

TEST_F(ReadLoopTest, ReadersArrivingDuringARoundShareTheNextOne) {
  Outcome first;
  loop_.Add(deadline_, first.Callback());
  EXPECT_EQ(raft_.wakes, 1);
  ASSERT_TRUE(loop_.NeedsRound());
  loop_.IssueRound(t0_, raft_.AsRequester());
  ASSERT_EQ(raft_.read_index_requests.size(), 1u);

  Outcome second, third;
  loop_.Add(deadline_, second.Callback());
  loop_.Add(deadline_, third.Callback());
  EXPECT_EQ(raft_.wakes, 1) << "a round is in flight: its answer starts the next one";
  EXPECT_FALSE(loop_.NeedsRound());
  loop_.IssueRound(t0_, raft_.AsRequester());
  EXPECT_EQ(raft_.read_index_requests.size(), 1u) << "one round in flight at a time";

  loop_.OnReadState(raft_.read_index_requests[0], 5);
  ASSERT_TRUE(loop_.NeedsRound());
  loop_.IssueRound(t0_, raft_.AsRequester());
  ASSERT_EQ(raft_.read_index_requests.size(), 2u) << "the two later readers share one round";
  EXPECT_NE(raft_.read_index_requests[1], raft_.read_index_requests[0]);
  loop_.OnReadState(raft_.read_index_requests[1], 7);
  Apply(7);
  EXPECT_TRUE(first.status && first.status->ok());
  EXPECT_TRUE(second.status && second.status->ok());
  EXPECT_TRUE(third.status && third.status->ok());
}

TEST_F(ReadLoopTest, ReaderWaitsUntilTheReadIndexIsApplied) {
  applied_ = 3;
  Outcome reader;
  loop_.Add(deadline_, reader.Callback());
  loop_.IssueRound(t0_, raft_.AsRequester());
  loop_.OnReadState(raft_.read_index_requests.at(0), 5);
  EXPECT_FALSE(reader.status) << "released before index 5 was applied";
  Apply(4);
  EXPECT_FALSE(reader.status);
  Apply(5);
  ASSERT_TRUE(reader.status);
  EXPECT_TRUE(reader.status->ok());
}

TEST_F(ReadLoopTest, ReadIndexAlreadyAppliedReleasesAtOnce) {
  applied_ = 9;
  Outcome reader;
  loop_.Add(deadline_, reader.Callback());
  loop_.IssueRound(t0_, raft_.AsRequester());
  loop_.OnReadState(raft_.read_index_requests.at(0), 9);
  ASSERT_TRUE(reader.status);
  EXPECT_TRUE(reader.status->ok());
}

TEST_F(ReadLoopTest, UnansweredRoundIsAskedAgainWithTheSameContextAfterTheRetryInterval) {
  Outcome reader;
  loop_.Add(deadline_, reader.Callback());
  loop_.IssueRound(t0_, raft_.AsRequester());
  loop_.IssueRound(t0_ + ReadLoop::kRetry - std::chrono::milliseconds(1), raft_.AsRequester());
  EXPECT_EQ(raft_.read_index_requests.size(), 1u);
  loop_.IssueRound(t0_ + ReadLoop::kRetry, raft_.AsRequester());
  ASSERT_EQ(raft_.read_index_requests.size(), 2u);
  EXPECT_EQ(raft_.read_index_requests[1], raft_.read_index_requests[0]);
  // Both copies of the round may be answered; the second answer finds nothing to do.
  loop_.OnReadState(raft_.read_index_requests[0], 0);
  loop_.OnReadState(raft_.read_index_requests[1], 0);
  EXPECT_TRUE(reader.status && reader.status->ok());
}

TEST_F(ReadLoopTest, StaleAnswerDoesNotReleaseTheCurrentRound) {
  Outcome reader;
  loop_.Add(deadline_, reader.Callback());
  loop_.IssueRound(t0_, raft_.AsRequester());
  loop_.OnReadState(std::string(8, '\x7f'), 0);
  EXPECT_FALSE(reader.status);
}

TEST_F(ReadLoopTest, OverdueReadersOfAnUnansweredRoundTimeOut) {
  Outcome early, late;
  loop_.Add(t0_ + std::chrono::seconds(1), early.Callback());
  loop_.Add(t0_ + std::chrono::seconds(5), late.Callback());
  loop_.IssueRound(t0_, raft_.AsRequester());
  loop_.ExpireOverdue(t0_ + std::chrono::seconds(1));
  ASSERT_TRUE(early.status);
  EXPECT_EQ(early.status->message(), ErrTimeout().message());
  EXPECT_FALSE(late.status);
  EXPECT_FALSE(loop_.NeedsRound());
  loop_.ExpireOverdue(t0_ + std::chrono::seconds(5));
  ASSERT_TRUE(late.status);
  EXPECT_EQ(late.status->message(), ErrTimeout().message());
}

TEST_F(ReadLoopTest, LocalReadWaitsOnlyForTheGivenIndex) {
  applied_ = 2;
  Outcome now, later;
  loop_.AwaitApplied(2, now.Callback());
  EXPECT_TRUE(now.status && now.status->ok());
  loop_.AwaitApplied(4, later.Callback());
  EXPECT_FALSE(later.status);
  EXPECT_TRUE(raft_.read_index_requests.empty());
  Apply(4);
  EXPECT_TRUE(later.status && later.status->ok());
}

TEST_F(ReadLoopTest, StopFailsEveryReaderAndLaterOnes) {
  Outcome in_round, waiting, applying, after;
  loop_.Add(deadline_, in_round.Callback());
  loop_.IssueRound(t0_, raft_.AsRequester());
  loop_.Add(deadline_, waiting.Callback());
  loop_.AwaitApplied(1, applying.Callback());
  loop_.Stop();
  loop_.Add(deadline_, after.Callback());
  for (Outcome* o : {&in_round, &waiting, &applying, &after}) {
    ASSERT_TRUE(o->status);
    EXPECT_EQ(o->status->message(), ErrStopped().message());
  }
}

}  // namespace
}  // namespace cairn::etcdserver
