// Backup retention: each rule on its own, their union, what happens to failed backups,
// determinism, and — over many seeded random inputs — that the newest successful backup
// is never selected for deletion and that the selection is exactly what the rules say.
#include "operator/backup/retention.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace cairn::op::backup {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

const TimePoint kNow = std::chrono::sys_days{std::chrono::year{2025} / 3 / 1} + 12h;

BackupRecord Good(const std::string& name, std::chrono::seconds age) { return {name, kNow - age, true}; }
BackupRecord Bad(const std::string& name, std::chrono::seconds age) { return {name, kNow - age, false}; }

RetentionPolicy KeepLast(int32_t n) {
  RetentionPolicy p;
  p.keep_last = n;
  return p;
}
RetentionPolicy MaxAge(std::chrono::seconds age) {
  RetentionPolicy p;
  p.max_age = age;
  return p;
}

// Daily successes, d0 newest.
std::vector<BackupRecord> Dailies(int n) {
  std::vector<BackupRecord> out;
  for (int i = 0; i < n; ++i) out.push_back(Good("d" + std::to_string(i), std::chrono::hours(24 * i + 1)));
  return out;
}

TEST(RetentionTest, NoLimitsDeletesNothing) {
  std::vector<BackupRecord> b = Dailies(10);
  b.push_back(Bad("old-failure", 1000h));
  EXPECT_THAT(BackupsToDelete(b, RetentionPolicy{}, kNow), IsEmpty());
  RetentionPolicy negative;
  negative.keep_last = -3;
  negative.max_age = -1h;
  EXPECT_THAT(BackupsToDelete(b, negative, kNow), IsEmpty());
}

TEST(RetentionTest, EmptyInput) { EXPECT_THAT(BackupsToDelete({}, KeepLast(3), kNow), IsEmpty()); }

TEST(RetentionTest, KeepLastKeepsTheNewestSuccesses) {
  EXPECT_THAT(BackupsToDelete(Dailies(6), KeepLast(3), kNow), ElementsAre("d5", "d4", "d3"));
  EXPECT_THAT(BackupsToDelete(Dailies(3), KeepLast(3), kNow), IsEmpty());
  EXPECT_THAT(BackupsToDelete(Dailies(3), KeepLast(10), kNow), IsEmpty());
  EXPECT_THAT(BackupsToDelete(Dailies(3), KeepLast(1), kNow), ElementsAre("d2", "d1"));
}

TEST(RetentionTest, KeepLastCountsOnlySuccesses) {
  // Failures between successes neither use up a keep_last slot nor survive.
  const std::vector<BackupRecord> b = {Good("g0", 1h), Bad("f0", 2h), Bad("f1", 3h), Good("g1", 4h), Good("g2", 5h)};
  EXPECT_THAT(BackupsToDelete(b, KeepLast(2), kNow), ElementsAre("g2", "f1", "f0"));
}

TEST(RetentionTest, MaxAgeKeepsYoungerOnes) {
  // d0..d5 are 1h, 25h, 49h, ... old; 72h keeps d0, d1, d2.
  EXPECT_THAT(BackupsToDelete(Dailies(6), MaxAge(72h), kNow), ElementsAre("d5", "d4", "d3"));
  // Exactly max_age old is no longer younger than max_age.
  EXPECT_THAT(BackupsToDelete({Good("new", 1h), Good("edge", 10h)}, MaxAge(10h), kNow), ElementsAre("edge"));
  EXPECT_THAT(BackupsToDelete({Good("new", 1h), Good("edge", 10h - 1s)}, MaxAge(10h), kNow), IsEmpty());
  // Completed "in the future" (clock skew) counts as young.
  EXPECT_THAT(BackupsToDelete({Good("skewed", -5min), Good("old", 100h)}, MaxAge(1h), kNow), ElementsAre("old"));
}

TEST(RetentionTest, EitherRuleKeeps) {
  RetentionPolicy p;
  p.keep_last = 2;
  p.max_age = 96h;  // d0..d3 are younger
  EXPECT_THAT(BackupsToDelete(Dailies(6), p, kNow), ElementsAre("d5", "d4"));
  p.keep_last = 5;
  p.max_age = 24h;  // only d0 is younger
  EXPECT_THAT(BackupsToDelete(Dailies(6), p, kNow), ElementsAre("d5"));
}

TEST(RetentionTest, NewestSuccessSurvivesAnyPolicy) {
  // Every backup is older than max_age; the newest good one stays.
  const std::vector<BackupRecord> b = {Good("a", 500h), Good("b", 400h), Good("c", 300h)};
  EXPECT_THAT(BackupsToDelete(b, MaxAge(1h), kNow), ElementsAre("a", "b"));
  // And with failures newer than it: they stay (no newer success), and so does it.
  const std::vector<BackupRecord> c = {Bad("f", 1h), Good("g", 300h), Good("h", 301h)};
  EXPECT_THAT(BackupsToDelete(c, MaxAge(1h), kNow), ElementsAre("h"));
}

TEST(RetentionTest, FailuresGoOnceANewerSuccessExists) {
  const std::vector<BackupRecord> b = {Bad("f-new", 1h), Good("g", 2h), Bad("f-old", 3h), Bad("f-older", 500h)};
  // A generous policy keeps every success but not the superseded failures.
  EXPECT_THAT(BackupsToDelete(b, KeepLast(100), kNow), ElementsAre("f-older", "f-old"));
  // Failures are kept for diagnosis while no success followed them, however old.
  EXPECT_THAT(BackupsToDelete({Bad("x", 900h), Bad("y", 1000h)}, KeepLast(1), kNow), IsEmpty());
  EXPECT_THAT(BackupsToDelete({Bad("x", 900h), Bad("y", 1000h)}, MaxAge(1h), kNow), IsEmpty());
}

TEST(RetentionTest, DeterministicOrderAndTies) {
  // Same completion time: the greater name is newer.
  const TimePoint t = kNow - 10h;
  const std::vector<BackupRecord> b = {{"backup-b", t, true}, {"backup-c", t, true}, {"backup-a", t, true}};
  EXPECT_THAT(BackupsToDelete(b, KeepLast(1), kNow), ElementsAre("backup-a", "backup-b"));
  // A failure tied with a success on time: ordered by name as well.
  const std::vector<BackupRecord> c = {{"x-2", t, false}, {"x-1", t, true}, {"x-0", t, false}};
  EXPECT_THAT(BackupsToDelete(c, KeepLast(1), kNow), ElementsAre("x-0"));
  // Input order does not matter.
  std::vector<BackupRecord> d = Dailies(8);
  d.push_back(Bad("f", 30h));
  const auto want = BackupsToDelete(d, KeepLast(3), kNow);
  std::mt19937 rng(7);
  for (int i = 0; i < 20; ++i) {
    std::shuffle(d.begin(), d.end(), rng);
    EXPECT_EQ(BackupsToDelete(d, KeepLast(3), kNow), want);
  }
}

TEST(RetentionTest, DuplicateNameNeverTakesAKeptBackupDown) {
  // Two records named "dup": the newest success and an old superseded failure.
  const std::vector<BackupRecord> b = {Good("dup", 1h), Bad("dup", 100h), Good("old", 200h)};
  EXPECT_THAT(BackupsToDelete(b, KeepLast(1), kNow), ElementsAre("old"));
  // Two old records with one name are reported once.
  const std::vector<BackupRecord> c = {Good("new", 1h), Good("twin", 100h), Good("twin", 101h)};
  EXPECT_THAT(BackupsToDelete(c, KeepLast(1), kNow), ElementsAre("twin"));
}

// Random inputs: ties in time, runs of failures, no successes at all, every policy shape.
TEST(RetentionTest, PropertyNewestGoodIsNeverDeletedAndRulesHold) {
  std::mt19937_64 rng(0x5eed);
  int deletions = 0;
  for (int iter = 0; iter < 5000; ++iter) {
    const int n = std::uniform_int_distribution<int>(0, 25)(rng);
    const double success_rate = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    std::vector<BackupRecord> in;
    for (int i = 0; i < n; ++i) {
      BackupRecord r;
      r.name = "b" + std::to_string(i);
      // Coarse times (whole hours over ~10 days, some in the future) to force ties.
      r.completed = kNow - std::chrono::hours(std::uniform_int_distribution<int>(-3, 240)(rng));
      r.succeeded = std::bernoulli_distribution(success_rate)(rng);
      in.push_back(r);
    }
    RetentionPolicy p;
    p.keep_last = std::uniform_int_distribution<int>(-1, 6)(rng);
    p.max_age = std::chrono::hours(std::uniform_int_distribution<int>(-1, 200)(rng));

    const std::vector<std::string> out = BackupsToDelete(in, p, kNow);
    SCOPED_TRACE("iteration " + std::to_string(iter));

    // Reference ordering, newest first.
    std::vector<BackupRecord> order = in;
    std::sort(order.begin(), order.end(), [](const BackupRecord& a, const BackupRecord& b) {
      return std::tie(a.completed, a.name) > std::tie(b.completed, b.name);
    });
    std::map<std::string, size_t> rank;  // position in `order`
    for (size_t i = 0; i < order.size(); ++i) rank[order[i].name] = i;
    const auto newest_good = std::find_if(order.begin(), order.end(), [](const BackupRecord& r) { return r.succeeded; });

    const std::set<std::string> deleted(out.begin(), out.end());
    ASSERT_EQ(deleted.size(), out.size()) << "duplicates in output";
    if (newest_good != order.end()) {
      ASSERT_EQ(deleted.count(newest_good->name), 0U);
    }
    if (p.keep_last <= 0 && p.max_age <= 0s) {
      ASSERT_TRUE(out.empty());
    }
    for (size_t i = 1; i < out.size(); ++i) ASSERT_GT(rank[out[i - 1]], rank[out[i]]) << "not oldest first";

    // Exactly the rules: recompute each record's fate independently.
    int successes_newer = 0;
    for (const BackupRecord& r : order) {
      bool should_delete = false;
      if (p.keep_last > 0 || p.max_age > 0s) {
        if (r.succeeded) {
          const bool newest = successes_newer == 0;
          const bool in_last = p.keep_last > 0 && successes_newer < p.keep_last;
          const bool young = p.max_age > 0s && kNow - r.completed < p.max_age;
          should_delete = !newest && !in_last && !young;
        } else {
          should_delete = successes_newer > 0;
        }
      }
      ASSERT_EQ(deleted.count(r.name) == 1, should_delete) << r.name << (r.succeeded ? " (ok)" : " (failed)");
      if (r.succeeded) ++successes_newer;
    }

    // The answer does not depend on input order.
    std::shuffle(in.begin(), in.end(), rng);
    ASSERT_EQ(BackupsToDelete(in, p, kNow), out);
    deletions += static_cast<int>(out.size());
  }
  EXPECT_GT(deletions, 1000);  // the generator exercised deletion, not just the empty case
}

}  // namespace
}  // namespace cairn::op::backup
