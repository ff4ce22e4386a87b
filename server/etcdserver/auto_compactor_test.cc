#include "server/etcdserver/auto_compactor.h"

#include <gtest/gtest.h>

namespace cairn::etcdserver {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using Mode = AutoCompactor::Mode;

TEST(AutoCompactorTest, ZeroRetentionDisables) {
  const auto t0 = AutoCompactor::Clock::now();
  EXPECT_FALSE(AutoCompactor(Mode::kPeriodic, seconds(0), 0, t0).Enabled());
  EXPECT_FALSE(AutoCompactor(Mode::kRevision, hours(1), 0, t0).Enabled());
  EXPECT_TRUE(AutoCompactor(Mode::kRevision, seconds(0), 100, t0).Enabled());
}

// etcd 3.4's periodic compactor: records every period/10, first compaction after one
// period to the revision seen a period earlier, then every min(period, 1h).
TEST(AutoCompactorTest, PeriodicKeepsAboutOnePeriodOfHistory) {
  auto t = AutoCompactor::Clock::now();
  AutoCompactor c(Mode::kPeriodic, minutes(10), 0, t);
  int64_t rev = 100;
  // One minute per step (the record interval), 10 revisions per minute.
  for (int minute = 0; minute < 10; ++minute) {
    EXPECT_EQ(c.Due(t, rev, true), std::nullopt) << "minute " << minute;
    t += minutes(1);
    rev += 10;
  }
  auto due = c.Due(t, rev, true);  // minute 10: the revision recorded at minute 0
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(*due, 100);
  c.Compacted(t, *due);
  for (int minute = 11; minute < 20; ++minute) {
    t += minutes(1);
    rev += 10;
    EXPECT_EQ(c.Due(t, rev, true), std::nullopt) << "minute " << minute;
  }
  t += minutes(1);
  rev += 10;
  due = c.Due(t, rev, true);  // minute 20: ten minutes of history kept
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(*due, rev - 100);
}

TEST(AutoCompactorTest, LongPeriodsCompactHourly) {
  auto t = AutoCompactor::Clock::now();
  AutoCompactor c(Mode::kPeriodic, hours(5), 0, t);
  int64_t rev = 1;
  int compactions = 0;
  std::optional<int64_t> last;
  for (int step = 0; step <= 8 * 10; ++step) {  // 8 hours in 6-minute steps
    if (auto due = c.Due(t, rev, true)) {
      ++compactions;
      EXPECT_LE(*due, rev - 5 * 10 * 10 + 10) << "keeps about five hours";
      last = due;
      c.Compacted(t, *due);
    }
    t += minutes(6);
    rev += 10;
  }
  EXPECT_EQ(compactions, 4);  // at hours 5, 6, 7 and 8
}

TEST(AutoCompactorTest, OnlyTheLeaderCompactsButFollowersKeepRecording) {
  auto t = AutoCompactor::Clock::now();
  AutoCompactor c(Mode::kPeriodic, minutes(10), 0, t);
  for (int minute = 0; minute <= 30; ++minute) {
    EXPECT_EQ(c.Due(t, 100 + minute, false), std::nullopt);
    t += minutes(1);
  }
  auto due = c.Due(t, 131, true);
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(*due, 121);  // ten minutes back, recorded while a follower
}

TEST(AutoCompactorTest, RevisionModeEveryFiveMinutesKeepsTheLastN) {
  auto t = AutoCompactor::Clock::now();
  AutoCompactor c(Mode::kRevision, seconds(0), 1000, t);
  EXPECT_EQ(c.Due(t + minutes(4), 5000, true), std::nullopt);
  auto due = c.Due(t + minutes(5), 5000, true);
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(*due, 4000);
  c.Compacted(t + minutes(5), 4000);
  EXPECT_EQ(c.Due(t + minutes(10), 5000, true), std::nullopt) << "nothing new since";
  EXPECT_EQ(c.Due(t + minutes(15), 500, true), std::nullopt) << "fewer revisions than the retention";
  EXPECT_EQ(c.Due(t + minutes(20), 9000, false), std::nullopt) << "followers never compact";
  EXPECT_EQ(c.Due(t + minutes(25), 9000, true), std::optional<int64_t>(8000));
}

}  // namespace
}  // namespace cairn::etcdserver
