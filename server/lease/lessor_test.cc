#include "server/lease/lessor.h"

#include <gtest/gtest.h>

namespace cairn::lease {
namespace {

using std::chrono::seconds;

class LessorTest : public ::testing::Test {
 protected:
  Clock::time_point now_ = Clock::time_point() + std::chrono::hours(1);
  Lessor lessor_{/*min_ttl=*/2, /*checkpoint_interval=*/seconds(60), [this] { return now_; }};
};

TEST_F(LessorTest, GrantTwiceFailsAndRevokeReturnsAttachedKeys) {
  ASSERT_TRUE(lessor_.Grant(7, 10).ok());
  EXPECT_EQ(lessor_.Grant(7, 10), ErrLeaseExists());
  lessor_.Attach(7, "a");
  lessor_.Attach(7, "b");
  lessor_.Detach(7, "a");
  auto keys = lessor_.Revoke(7);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys.value(), std::vector<std::string>{"b"});
  EXPECT_FALSE(lessor_.Exists(7));
  EXPECT_EQ(lessor_.Revoke(7).status(), ErrLeaseNotFound());
}

TEST_F(LessorTest, OnlyThePrimaryExpiresLeases) {
  ASSERT_TRUE(lessor_.Grant(1, 5).ok());
  now_ += seconds(100);
  EXPECT_TRUE(lessor_.Expired(std::chrono::milliseconds(0)).empty()) << "a follower never expires leases";
  lessor_.Promote();
  now_ += seconds(4);
  EXPECT_TRUE(lessor_.Expired(std::chrono::milliseconds(0)).empty());
  now_ += seconds(1);
  EXPECT_EQ(lessor_.Expired(std::chrono::seconds(3)), std::vector<int64_t>{1});
  EXPECT_TRUE(lessor_.Expired(std::chrono::seconds(3)).empty()) << "not handed out again within the retry window";
  now_ += seconds(3);
  EXPECT_EQ(lessor_.Expired(std::chrono::seconds(3)), std::vector<int64_t>{1}) << "a lost revoke is retried";
}

TEST_F(LessorTest, RenewRestartsTheClock) {
  lessor_.Promote();
  ASSERT_TRUE(lessor_.Grant(1, 10).ok());
  now_ += seconds(8);
  ASSERT_EQ(lessor_.Renew(1).value(), 10);
  now_ += seconds(8);
  EXPECT_TRUE(lessor_.Expired(std::chrono::milliseconds(0)).empty());
  EXPECT_EQ(lessor_.TimeToLive(1, false)->remaining_ttl, 2);
  EXPECT_EQ(lessor_.Renew(99).status(), ErrLeaseNotFound());
}

TEST_F(LessorTest, PromotionContinuesFromTheCheckpointedRemainingTtl) {
  lessor_.Restore(1, 100, 30);  // checkpointed with 30 s left
  lessor_.Restore(2, 100, 0);   // never checkpointed: full TTL
  lessor_.Promote();
  now_ += seconds(31);
  EXPECT_EQ(lessor_.Expired(std::chrono::milliseconds(0)), std::vector<int64_t>{1});
  EXPECT_EQ(lessor_.TimeToLive(2, false)->remaining_ttl, 69);
}

TEST_F(LessorTest, CheckpointsLongLeasesPeriodicallyAndAfterARenewalOfACheckpointedLease) {
  lessor_.Promote();
  ASSERT_TRUE(lessor_.Grant(1, 600).ok());  // longer than the interval
  ASSERT_TRUE(lessor_.Grant(2, 30).ok());   // shorter: a fresh TTL after failover is bounded anyway
  EXPECT_TRUE(lessor_.CheckpointsDue().empty());
  now_ += seconds(60);
  auto due = lessor_.CheckpointsDue();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].id, 1);
  EXPECT_EQ(due[0].remaining_ttl, 540);
  lessor_.Checkpoint(1, 540);
  EXPECT_TRUE(lessor_.CheckpointsDue().empty());
  ASSERT_TRUE(lessor_.Renew(1).ok());
  due = lessor_.CheckpointsDue();
  ASSERT_EQ(due.size(), 1u) << "the persisted 540 s is stale after a renewal";
  EXPECT_EQ(due[0].remaining_ttl, 600);
}

TEST_F(LessorTest, DemotionStopsExpiryAndTtlIsReportedFromTheCheckpoint) {
  lessor_.Promote();
  ASSERT_TRUE(lessor_.Grant(1, 10).ok());
  lessor_.Demote();
  now_ += seconds(60);
  EXPECT_TRUE(lessor_.Expired(std::chrono::milliseconds(0)).empty());
  EXPECT_EQ(lessor_.TimeToLive(1, false)->remaining_ttl, 10);
}

TEST_F(LessorTest, EffectiveTtlIsAtLeastTheMinimum) {
  EXPECT_EQ(lessor_.EffectiveTtl(1), 2);
  EXPECT_EQ(lessor_.EffectiveTtl(30), 30);
}

}  // namespace
}  // namespace cairn::lease
