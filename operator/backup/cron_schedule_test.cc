// CronSchedule: every syntax element and its errors, the day-of-month/day-of-week OR rule,
// month/year/leap-year boundaries, DST gaps and overlaps in Europe/Berlin and
// America/New_York, and MissedRun's one-catch-up-run contract. All instants are fixed;
// nothing reads the real clock.
#include "operator/backup/cron_schedule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace cairn::op::backup {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// "2024-03-31 01:00" read as UTC.
TimePoint Utc(const std::string& s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0;
  if (std::sscanf(s.c_str(), "%d-%d-%d %d:%d", &y, &mo, &d, &h, &mi) != 5) {
    ADD_FAILURE() << "bad time literal " << s;
  }
  return std::chrono::sys_days{std::chrono::year{y} / mo / d} + std::chrono::hours{h} + std::chrono::minutes{mi};
}

// Printed as UTC so a failing expectation reads like the literal it is compared with.
std::string Str(TimePoint t) {
  if (t == CronSchedule::kNever) return "never";
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  std::string out = buf;
  if (t != std::chrono::floor<std::chrono::minutes>(t)) out += " (+sub-minute)";
  return out;
}

std::string Str(const std::optional<TimePoint>& t) { return t ? Str(*t) : "none"; }

CronSchedule Must(const std::string& expr, const std::string& tz = "UTC") {
  auto s = CronSchedule::Parse(expr, tz);
  if (!s.ok()) {
    ADD_FAILURE() << expr << " [" << tz << "]: " << s.status().ToString();
    return *CronSchedule::Parse("* * * * *");
  }
  return *s;
}

// The first n slots after `from`, as UTC strings.
std::vector<std::string> Runs(const CronSchedule& s, const std::string& from, int n) {
  std::vector<std::string> out;
  TimePoint t = Utc(from);
  for (int i = 0; i < n; ++i) {
    t = s.Next(t);
    out.push_back(Str(t));
  }
  return out;
}

// Every slot in (from, to].
std::vector<TimePoint> RunsBetween(const CronSchedule& s, TimePoint from, TimePoint to) {
  std::vector<TimePoint> out;
  for (TimePoint t = s.Next(from); t <= to; t = s.Next(t)) out.push_back(t);
  return out;
}

std::string ParseError(const std::string& expr, const std::string& tz = "UTC") {
  auto s = CronSchedule::Parse(expr, tz);
  if (s.ok()) return "<parsed>";
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << expr;
  return s.status().message();
}

// --- syntax ---------------------------------------------------------------------------

TEST(CronParseTest, EveryMinute) {
  EXPECT_THAT(Runs(Must("* * * * *"), "2024-01-01 00:00", 3),
              ElementsAre("2024-01-01 00:01", "2024-01-01 00:02", "2024-01-01 00:03"));
}

TEST(CronParseTest, SingleValues) {
  EXPECT_THAT(Runs(Must("30 4 * * *"), "2024-01-01 00:00", 2), ElementsAre("2024-01-01 04:30", "2024-01-02 04:30"));
  EXPECT_THAT(Runs(Must("0 0 5 * *"), "2024-01-01 00:00", 2), ElementsAre("2024-01-05 00:00", "2024-02-05 00:00"));
  EXPECT_THAT(Runs(Must("0 0 1 3 *"), "2024-01-01 00:00", 2), ElementsAre("2024-03-01 00:00", "2025-03-01 00:00"));
  // 2024-01-03 is a Wednesday.
  EXPECT_THAT(Runs(Must("0 0 * * 3"), "2024-01-01 00:00", 2), ElementsAre("2024-01-03 00:00", "2024-01-10 00:00"));
}

TEST(CronParseTest, ListsAndRanges) {
  EXPECT_THAT(Runs(Must("0,20,40 * * * *"), "2024-01-01 00:00", 4),
              ElementsAre("2024-01-01 00:20", "2024-01-01 00:40", "2024-01-01 01:00", "2024-01-01 01:20"));
  EXPECT_THAT(Runs(Must("0 22-23,1 * * *"), "2024-01-01 00:00", 4),
              ElementsAre("2024-01-01 01:00", "2024-01-01 22:00", "2024-01-01 23:00", "2024-01-02 01:00"));
}

TEST(CronParseTest, Steps) {
  EXPECT_THAT(Runs(Must("*/15 * * * *"), "2024-01-01 00:00", 5),
              ElementsAre("2024-01-01 00:15", "2024-01-01 00:30", "2024-01-01 00:45", "2024-01-01 01:00",
                          "2024-01-01 01:15"));
  // A step over a range starts at the range's start, not at a multiple of the step.
  EXPECT_THAT(Runs(Must("10-30/10 * * * *"), "2024-01-01 00:00", 4),
              ElementsAre("2024-01-01 00:10", "2024-01-01 00:20", "2024-01-01 00:30", "2024-01-01 01:10"));
  EXPECT_THAT(Runs(Must("0 1-9/4 * * *"), "2024-01-01 00:00", 4),
              ElementsAre("2024-01-01 01:00", "2024-01-01 05:00", "2024-01-01 09:00", "2024-01-02 01:00"));
  // `a/n` is `a-max/n` (Kubernetes CronJob).
  EXPECT_THAT(Runs(Must("5/20 * * * *"), "2024-01-01 00:00", 4),
              ElementsAre("2024-01-01 00:05", "2024-01-01 00:25", "2024-01-01 00:45", "2024-01-01 01:05"));
  // Steps in the date fields: days 1, 11, 21, 31 of every other month from January.
  EXPECT_THAT(Runs(Must("0 0 */10 */2 *"), "2024-01-25 00:00", 4),
              ElementsAre("2024-01-31 00:00", "2024-03-01 00:00", "2024-03-11 00:00", "2024-03-21 00:00"));
  // A step larger than the range selects only its start.
  EXPECT_THAT(Runs(Must("*/90 * * * *"), "2024-01-01 00:00", 2), ElementsAre("2024-01-01 01:00", "2024-01-01 02:00"));
}

TEST(CronParseTest, MonthAndWeekdayNamesAnyCase) {
  EXPECT_THAT(Runs(Must("0 0 1 jan,Jul *"), "2024-01-02 00:00", 2), ElementsAre("2024-07-01 00:00", "2025-01-01 00:00"));
  EXPECT_THAT(Runs(Must("0 0 1 MAR-may *"), "2024-01-01 00:00", 4),
              ElementsAre("2024-03-01 00:00", "2024-04-01 00:00", "2024-05-01 00:00", "2025-03-01 00:00"));
  // 2024-01-01 is a Monday.
  EXPECT_THAT(Runs(Must("0 9 * * mon-wed,Fri"), "2024-01-01 10:00", 4),
              ElementsAre("2024-01-02 09:00", "2024-01-03 09:00", "2024-01-05 09:00", "2024-01-08 09:00"));
  EXPECT_THAT(Runs(Must("0 9 * * MON-FRI/2"), "2024-01-01 10:00", 3),
              ElementsAre("2024-01-03 09:00", "2024-01-05 09:00", "2024-01-08 09:00"));
  // Names and numbers mean the same.
  EXPECT_EQ(Runs(Must("0 0 * 2 tue"), "2024-01-01 00:00", 10), Runs(Must("0 0 * FEB 2"), "2024-01-01 00:00", 10));
}

TEST(CronParseTest, SevenIsSunday) {
  // 2024-01-07 and 2024-01-14 are Sundays.
  const auto sundays = Runs(Must("0 0 * * 0"), "2024-01-01 00:00", 3);
  EXPECT_THAT(sundays, ElementsAre("2024-01-07 00:00", "2024-01-14 00:00", "2024-01-21 00:00"));
  EXPECT_EQ(Runs(Must("0 0 * * 7"), "2024-01-01 00:00", 3), sundays);
  EXPECT_EQ(Runs(Must("0 0 * * SUN"), "2024-01-01 00:00", 3), sundays);
  // 5-7: Friday, Saturday, Sunday.
  EXPECT_THAT(Runs(Must("0 0 * * 5-7"), "2024-01-01 00:00", 4),
              ElementsAre("2024-01-05 00:00", "2024-01-06 00:00", "2024-01-07 00:00", "2024-01-12 00:00"));
}

TEST(CronParseTest, Macros) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"@yearly", "0 0 1 1 *"},   {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
      {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"}, {"@hourly", "0 * * * *"},  {"@DAILY", "0 0 * * *"},
      {"  @hourly\t", "0 * * * *"},
  };
  for (const auto& [macro, fields] : cases) {
    EXPECT_EQ(Runs(Must(macro), "2023-12-20 13:17", 5), Runs(Must(fields), "2023-12-20 13:17", 5)) << macro;
  }
  EXPECT_THAT(Runs(Must("@yearly"), "2023-12-20 13:17", 2), ElementsAre("2024-01-01 00:00", "2025-01-01 00:00"));
  EXPECT_THAT(Runs(Must("@weekly"), "2024-01-01 00:00", 1), ElementsAre("2024-01-07 00:00"));
}

TEST(CronParseTest, WhitespaceIsFlexible) {
  EXPECT_EQ(Runs(Must("  5\t 4  *   * *  "), "2024-01-01 00:00", 3), Runs(Must("5 4 * * *"), "2024-01-01 00:00", 3));
}

TEST(CronParseTest, KeepsExpressionAndZone) {
  const CronSchedule s = Must("0 3 * * *", "Europe/Berlin");
  EXPECT_EQ(s.expression(), "0 3 * * *");
  EXPECT_EQ(s.time_zone(), "Europe/Berlin");
  EXPECT_EQ(Must("@daily").time_zone(), "UTC");
  EXPECT_EQ(Must("@daily", "").time_zone(), "UTC");
}

TEST(CronParseTest, ErrorsNameTheField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"61 * * * *", "minute field: 61 is out of range 0-59"},
      {"* 24 * * *", "hour field: 24 is out of range 0-23"},
      {"* * 0 * *", "day-of-month field: 0 is out of range 1-31"},
      {"* * 32 * *", "day-of-month field: 32 is out of range 1-31"},
      {"* * * 13 *", "month field: 13 is out of range 1-12"},
      {"* * * 0 *", "month field: 0 is out of range 1-12"},
      {"* * * * 8", "day-of-week field: 8 is out of range 0-7"},
      {"99999 * * * *", "minute field: 99999 is out of range 0-59"},
      {"1-70 * * * *", "minute field: 70 is out of range 0-59"},
      {"x * * * *", "minute field: \"x\" is not a number"},
      {"MON * * * *", "minute field: \"MON\" is not a number"},
      {"* * * JAN MONDAY", "day-of-week field: unknown name \"MONDAY\""},
      {"* * * FOO *", "month field: unknown name \"FOO\""},
      {"* * * * JAN", "day-of-week field: unknown name \"JAN\""},
      {"* * * MON *", "month field: unknown name \"MON\""},
      {"*/0 * * * *", "minute field: step 0 in \"*/0\" must be at least 1"},
      {"*/x * * * *", "minute field: step \"x\" in \"*/x\" is not a number"},
      {"*/ * * * *", "minute field: step \"\" in \"*/\" is not a number"},
      {"1/2/3 * * * *", "minute field: step \"2/3\""},
      {"30-10 * * * *", "minute field: range \"30-10\" runs backwards (30 > 10)"},
      {"* * * * FRI-MON", "day-of-week field: range \"FRI-MON\" runs backwards (5 > 1)"},
      {"* 1- * * *", "hour field: incomplete range \"1-\""},
      {"* -1 * * *", "hour field: incomplete range \"-1\""},
      {"1,,2 * * * *", "minute field: empty element in list \"1,,2\""},
      {"1, * * * *", "minute field: empty element in list \"1,\""},
      {"* * * *", "want 5 fields (minute hour day-of-month month day-of-week), got 4"},
      {"* * * * * *", "got 6"},
      {"", "got 0"},
      {"@reboot", "unknown macro \"@reboot\""},
      {"@every 1h", "got 2"},
      {"0 0 30 2 *", "day-of-month field: day 30 never occurs in month 2, so the schedule would never run"},
      {"0 0 30,31 2 *", "day-of-month field: day 30,31 never occurs in month 2"},
      {"0 0 31 4,6,9,11 *", "day-of-month field: day 31 never occurs in month 4,6,9,11"},
  };
  for (const auto& [expr, want] : cases) {
    const std::string got = ParseError(expr);
    EXPECT_THAT(got, HasSubstr(want)) << expr;
    EXPECT_THAT(got, HasSubstr("invalid schedule \"" + expr + "\": ")) << expr;
  }
}

TEST(CronParseTest, RareButPossibleDatesAreAccepted) {
  // Feb 29 exists in leap years; with a weekday restriction the OR rule makes any day possible.
  EXPECT_TRUE(CronSchedule::Parse("0 0 29 2 *").ok());
  EXPECT_TRUE(CronSchedule::Parse("0 0 30 2 MON").ok());
  EXPECT_TRUE(CronSchedule::Parse("0 0 31 2,3 *").ok());
  EXPECT_THAT(Runs(Must("0 0 30 2 MON"), "2024-01-31 00:00", 2), ElementsAre("2024-02-05 00:00", "2024-02-12 00:00"));
}

TEST(CronParseTest, TimeZoneErrors) {
  EXPECT_THAT(ParseError("* * * * *", "Mars/Olympus_Mons"),
              HasSubstr("time zone \"Mars/Olympus_Mons\": not found in the system time zone database"));
  EXPECT_THAT(ParseError("* * * * *", "Europe"), HasSubstr("not found"));  // a directory, not a zone
  for (const std::string tz : {"/etc/localtime", "../../etc/passwd", "Europe/../Europe/Berlin", "localtime",
                               "Europe//Berlin", "Europe/Berlin/", "UTC+01:00", "Europe/Berlin "}) {
    EXPECT_THAT(ParseError("* * * * *", tz), HasSubstr("not an IANA time zone name")) << tz;
  }
  EXPECT_TRUE(CronSchedule::Parse("* * * * *", "Etc/UTC").ok());
  EXPECT_TRUE(CronSchedule::Parse("* * * * *", "America/Argentina/Buenos_Aires").ok());
}

// --- the day rule ---------------------------------------------------------------------

TEST(CronDayRuleTest, BothRestrictedMeansEither) {
  // February 2024: the 1st and 15th are Thursdays; Mondays are 5, 12, 19, 26.
  const CronSchedule s = Must("0 0 1,15 * MON");
  std::vector<std::string> feb;
  for (TimePoint t : RunsBetween(s, Utc("2024-01-31 23:59"), Utc("2024-02-29 23:59"))) feb.push_back(Str(t));
  EXPECT_THAT(feb, ElementsAre("2024-02-01 00:00", "2024-02-05 00:00", "2024-02-12 00:00", "2024-02-15 00:00",
                               "2024-02-19 00:00", "2024-02-26 00:00"));
}

TEST(CronDayRuleTest, OneUnrestrictedMeansBoth) {
  // Day-of-month `*`: only Mondays. Day-of-week `*`: only the 13th.
  EXPECT_THAT(Runs(Must("0 0 * * MON"), "2024-02-01 00:00", 2), ElementsAre("2024-02-05 00:00", "2024-02-12 00:00"));
  EXPECT_THAT(Runs(Must("0 0 13 * *"), "2024-02-01 00:00", 2), ElementsAre("2024-02-13 00:00", "2024-03-13 00:00"));
  // `*/1` is unrestricted too, so this is "Mondays in February" ...
  EXPECT_THAT(Runs(Must("0 0 */1 2 MON"), "2024-02-01 00:00", 2), ElementsAre("2024-02-05 00:00", "2024-02-12 00:00"));
  // ... but `*/2` is a restriction (Kubernetes, not Vixie): odd days OR Mondays, so the
  // 12th (an even Monday) runs.
  EXPECT_THAT(Runs(Must("0 0 */2 2 MON"), "2024-02-10 00:00", 4),
              ElementsAre("2024-02-11 00:00", "2024-02-12 00:00", "2024-02-13 00:00", "2024-02-15 00:00"));
  // A restricted day-of-month selecting every day is still restricted: every day matches.
  EXPECT_THAT(Runs(Must("0 0 1-31 * MON"), "2024-02-01 00:00", 2), ElementsAre("2024-02-02 00:00", "2024-02-03 00:00"));
}

// --- calendar boundaries --------------------------------------------------------------

TEST(CronNextTest, StrictlyAfter) {
  const CronSchedule s = Must("30 * * * *");
  EXPECT_EQ(Str(s.Next(Utc("2024-01-01 10:30"))), "2024-01-01 11:30");
  EXPECT_EQ(Str(s.Next(Utc("2024-01-01 10:30") - 1ns)), "2024-01-01 10:30");
  EXPECT_EQ(Str(s.Next(Utc("2024-01-01 10:30") + 1ns)), "2024-01-01 11:30");
  EXPECT_EQ(Str(s.Next(Utc("2024-01-01 10:29") + 59s)), "2024-01-01 10:30");
}

TEST(CronNextTest, MonthAndYearEnds) {
  EXPECT_EQ(Str(Must("0 0 1 * *").Next(Utc("2023-12-15 00:00"))), "2024-01-01 00:00");
  EXPECT_EQ(Str(Must("59 23 31 12 *").Next(Utc("2023-12-31 23:59"))), "2024-12-31 23:59");
  EXPECT_EQ(Str(Must("* * * * *").Next(Utc("2023-12-31 23:59"))), "2024-01-01 00:00");
  // The 31st skips the short months.
  EXPECT_THAT(Runs(Must("0 0 31 * *"), "2024-01-31 00:00", 3),
              ElementsAre("2024-03-31 00:00", "2024-05-31 00:00", "2024-07-31 00:00"));
  EXPECT_THAT(Runs(Must("0 12 30 * *"), "2024-01-30 12:00", 2), ElementsAre("2024-03-30 12:00", "2024-04-30 12:00"));
}

TEST(CronNextTest, LeapDays) {
  const CronSchedule s = Must("0 12 29 2 *");
  EXPECT_EQ(Str(s.Next(Utc("2023-03-01 00:00"))), "2024-02-29 12:00");
  EXPECT_EQ(Str(s.Next(Utc("2024-02-29 12:00"))), "2028-02-29 12:00");
  // 2100 is not a leap year: the longest wait there is.
  EXPECT_EQ(Str(s.Next(Utc("2096-03-01 00:00"))), "2104-02-29 12:00");
  // Month-end schedules see Feb 29 in leap years only.
  EXPECT_THAT(Runs(Must("0 0 28-31 2 *"), "2024-02-27 00:00", 3),
              ElementsAre("2024-02-28 00:00", "2024-02-29 00:00", "2025-02-28 00:00"));
}

TEST(CronNextTest, NeverPastTheRepresentableRange) {
  // The slot after 2260-02-29 would be 2264: beyond system_clock's nanosecond range.
  EXPECT_EQ(Must("0 0 29 2 *").Next(Utc("2260-03-01 00:00")), CronSchedule::kNever);
  EXPECT_EQ(Must("* * * * *").Next(TimePoint::max()), CronSchedule::kNever);
}

// Next against a brute-force scan of every minute, with the fields decoded independently.
TEST(CronNextTest, AgreesWithMinuteByMinuteScan) {
  struct Case {
    std::string expr;
    std::function<bool(const std::tm&)> match;
  };
  const std::vector<Case> cases = {
      {"*/7 3-5 1,15 * MON",
       [](const std::tm& t) {
         return t.tm_min % 7 == 0 && t.tm_hour >= 3 && t.tm_hour <= 5 &&
                (t.tm_mday == 1 || t.tm_mday == 15 || t.tm_wday == 1);
       }},
      {"5/20 */6 * JAN-FEB,dec sun,7",
       [](const std::tm& t) {
         return (t.tm_min - 5) % 20 == 0 && t.tm_min >= 5 && t.tm_hour % 6 == 0 &&
                (t.tm_mon == 0 || t.tm_mon == 1 || t.tm_mon == 11) && t.tm_wday == 0;
       }},
      {"0 0 28-31 * *", [](const std::tm& t) { return t.tm_min == 0 && t.tm_hour == 0 && t.tm_mday >= 28; }},
      {"59 23 * * 6", [](const std::tm& t) { return t.tm_min == 59 && t.tm_hour == 23 && t.tm_wday == 6; }},
  };
  const TimePoint from = Utc("2023-11-20 00:00");
  const TimePoint to = Utc("2024-03-10 00:00");
  for (const Case& c : cases) {
    std::vector<TimePoint> want;
    for (TimePoint t = from + 1min; t <= to; t += 1min) {
      const std::time_t tt = std::chrono::system_clock::to_time_t(t);
      std::tm tm{};
      gmtime_r(&tt, &tm);
      if (c.match(tm)) want.push_back(t);
    }
    EXPECT_FALSE(want.empty()) << c.expr;
    EXPECT_EQ(RunsBetween(Must(c.expr), from, to), want) << c.expr;
  }
}

// --- daylight saving time -------------------------------------------------------------
// Europe/Berlin 2024: 02:00 CET -> 03:00 CEST on Mar 31 (01:00Z); 03:00 CEST -> 02:00 CET
// on Oct 27 (01:00Z). America/New_York 2024: 02:00 EST -> 03:00 EDT on Mar 10 (07:00Z);
// 02:00 EDT -> 01:00 EST on Nov 3 (06:00Z).

TEST(CronDstTest, BerlinSpringForwardRunsAtTheEndOfTheGap) {
  const CronSchedule s = Must("30 2 * * *", "Europe/Berlin");
  EXPECT_THAT(Runs(s, "2024-03-29 12:00", 4),
              ElementsAre("2024-03-30 01:30",    // 02:30 CET
                          "2024-03-31 01:00",    // 02:30 does not exist: 03:00 CEST
                          "2024-04-01 00:30",    // 02:30 CEST
                          "2024-04-02 00:30"));
}

TEST(CronDstTest, BerlinFallBackRunsOnce) {
  const CronSchedule s = Must("30 2 * * *", "Europe/Berlin");
  EXPECT_THAT(Runs(s, "2024-10-25 12:00", 3),
              ElementsAre("2024-10-26 00:30",    // 02:30 CEST
                          "2024-10-27 00:30",    // the first 02:30 (CEST); not again at 01:30Z (CET)
                          "2024-10-28 01:30"));  // 02:30 CET
  // Even asked from inside the second pass, the repeated 02:30 has already been.
  EXPECT_EQ(Str(s.Next(Utc("2024-10-27 01:10"))), "2024-10-28 01:30");
}

TEST(CronDstTest, NewYorkSpringForwardRunsAtTheEndOfTheGap) {
  const CronSchedule s = Must("30 2 * * *", "America/New_York");
  EXPECT_THAT(Runs(s, "2024-03-08 12:00", 4),
              ElementsAre("2024-03-09 07:30",    // 02:30 EST
                          "2024-03-10 07:00",    // 02:30 does not exist: 03:00 EDT
                          "2024-03-11 06:30",    // 02:30 EDT
                          "2024-03-12 06:30"));
  // Every slot inside the gap collapses into one run at 03:00 EDT.
  const CronSchedule q = Must("*/15 * * * *", "America/New_York");
  EXPECT_THAT(Runs(q, "2024-03-10 06:40", 4),
              ElementsAre("2024-03-10 06:45", "2024-03-10 07:00", "2024-03-10 07:15", "2024-03-10 07:30"));
}

TEST(CronDstTest, NewYorkFallBackRunsOnce) {
  const CronSchedule s = Must("30 1 * * *", "America/New_York");
  EXPECT_THAT(Runs(s, "2024-11-02 00:00", 3),
              ElementsAre("2024-11-02 05:30",    // 01:30 EDT
                          "2024-11-03 05:30",    // the first 01:30 (EDT); not again at 06:30Z (EST)
                          "2024-11-04 06:30"));  // 01:30 EST
  EXPECT_EQ(Str(s.Next(Utc("2024-11-03 06:00"))), "2024-11-04 06:30");
  // Hourly: 01:00 runs once, so 05:00Z is followed by 07:00Z (02:00 EST).
  EXPECT_THAT(Runs(Must("0 * * * *", "America/New_York"), "2024-11-03 04:30", 3),
              ElementsAre("2024-11-03 05:00", "2024-11-03 07:00", "2024-11-03 08:00"));
}

TEST(CronDstTest, ADailyScheduleRunsEveryDayOfTheYear) {
  // 2024 in Berlin: 2023-12-31 23:00Z to 2024-12-31 23:00Z. Both transition days included.
  const auto daily = RunsBetween(Must("30 2 * * *", "Europe/Berlin"), Utc("2023-12-31 23:00"), Utc("2024-12-31 23:00"));
  EXPECT_EQ(daily.size(), 366U);
  const auto ny = RunsBetween(Must("30 2 * * *", "America/New_York"), Utc("2024-01-01 05:00"), Utc("2025-01-01 05:00"));
  EXPECT_EQ(ny.size(), 366U);
  // Hourly: 24 runs a day, except that 02:00 and 03:00 are one instant on the spring day.
  const auto hourly = RunsBetween(Must("0 * * * *", "Europe/Berlin"), Utc("2023-12-31 23:00"), Utc("2024-12-31 23:00"));
  EXPECT_EQ(hourly.size(), 366U * 24 - 1);
  for (size_t i = 1; i < hourly.size(); ++i) ASSERT_LT(hourly[i - 1], hourly[i]);
}

TEST(CronDstTest, NonDstZoneAndUtcAgree) {
  // Asia/Tokyo has had no DST since 1951: a fixed +09:00.
  EXPECT_THAT(Runs(Must("0 9 * * *", "Asia/Tokyo"), "2024-03-30 12:00", 2),
              ElementsAre("2024-03-31 00:00", "2024-04-01 00:00"));
  EXPECT_EQ(Runs(Must("17 */5 * * 1-5", "Etc/UTC"), "2024-03-30 12:00", 20),
            Runs(Must("17 */5 * * 1-5"), "2024-03-30 12:00", 20));
}

// --- MissedRun ------------------------------------------------------------------------

TEST(CronMissedRunTest, ThreeDayOutageYieldsOnlyTheLatestSlot) {
  const CronSchedule s = Must("0 2 * * *");
  EXPECT_EQ(Str(s.MissedRun(Utc("2024-05-01 02:00"), Utc("2024-05-04 10:00"))), "2024-05-04 02:00");
  const CronSchedule b = Must("0 2 * * *", "Europe/Berlin");
  EXPECT_EQ(Str(b.MissedRun(Utc("2024-05-01 00:00"), Utc("2024-05-04 10:00"))), "2024-05-04 00:00");
  const CronSchedule m = Must("*/5 * * * *");
  EXPECT_EQ(Str(m.MissedRun(Utc("2024-05-01 02:00"), Utc("2024-05-04 10:03"))), "2024-05-04 10:00");
}

TEST(CronMissedRunTest, Bounds) {
  const CronSchedule s = Must("0 2 * * *");
  // Nothing due since the last run.
  EXPECT_EQ(s.MissedRun(Utc("2024-05-04 02:00"), Utc("2024-05-04 10:00")), std::nullopt);
  EXPECT_EQ(s.MissedRun(Utc("2024-05-04 02:00"), Utc("2024-05-05 01:59")), std::nullopt);
  // (last_run, now]: now is inclusive, last_run is not.
  EXPECT_EQ(Str(s.MissedRun(Utc("2024-05-04 02:00"), Utc("2024-05-05 02:00"))), "2024-05-05 02:00");
  EXPECT_EQ(Str(s.MissedRun(Utc("2024-05-04 02:00") - 1ns, Utc("2024-05-04 03:00"))), "2024-05-04 02:00");
  // Empty or backwards interval.
  EXPECT_EQ(s.MissedRun(Utc("2024-05-04 02:00"), Utc("2024-05-04 02:00")), std::nullopt);
  EXPECT_EQ(s.MissedRun(Utc("2024-05-06 02:00"), Utc("2024-05-04 02:00")), std::nullopt);
  // A long outage and a never-run schedule (epoch) still find the single latest slot.
  EXPECT_EQ(Str(s.MissedRun(TimePoint{}, Utc("2024-05-04 10:00"))), "2024-05-04 02:00");
  EXPECT_EQ(Str(Must("0 12 29 2 *").MissedRun(TimePoint{}, Utc("2101-01-01 00:00"))), "2096-02-29 12:00");
}

TEST(CronMissedRunTest, InsideAFallBackOverlap) {
  // 01:20Z on Oct 27 is 02:20 CET, the second pass. The quarter-hours of the first pass
  // (02:00-02:45 CEST = 00:00Z-00:45Z) are behind us, the latest being 02:45 CEST, even
  // though its wall time is later than now's.
  const CronSchedule s = Must("*/15 * * * *", "Europe/Berlin");
  EXPECT_EQ(Str(s.MissedRun(Utc("2024-10-26 12:00"), Utc("2024-10-27 01:20"))), "2024-10-27 00:45");
  EXPECT_EQ(Str(s.MissedRun(Utc("2024-10-27 00:40"), Utc("2024-10-27 01:20"))), "2024-10-27 00:45");
  EXPECT_EQ(s.MissedRun(Utc("2024-10-27 00:45"), Utc("2024-10-27 01:59")), std::nullopt);
  EXPECT_EQ(Str(s.MissedRun(Utc("2024-10-27 00:45"), Utc("2024-10-27 02:00"))), "2024-10-27 02:00");
}

TEST(CronMissedRunTest, InsideASpringForwardGap) {
  const CronSchedule s = Must("30 2 * * *", "Europe/Berlin");
  EXPECT_EQ(Str(s.MissedRun(Utc("2024-03-30 12:00"), Utc("2024-03-31 01:00"))), "2024-03-31 01:00");
  EXPECT_EQ(s.MissedRun(Utc("2024-03-30 12:00"), Utc("2024-03-31 00:59")), std::nullopt);
}

// Next and MissedRun describe the same set of slots: n = Next(t) is due in (t, n] and
// nothing is due in (t, n); MissedRun's answer p has no slot in (p, now]. Sampled densely
// across both 2024 transitions in each zone, plus random instants in 2023-2026.
TEST(CronMissedRunTest, AgreesWithNext) {
  const std::vector<std::pair<std::string, std::string>> schedules = {
      {"*/15 * * * *", "Europe/Berlin"},   {"30 2 * * *", "Europe/Berlin"},      {"0 * * * *", "America/New_York"},
      {"30 1 * * *", "America/New_York"},  {"*/7 0-3 * * *", "America/New_York"}, {"0 0 1,15 * MON", "UTC"},
      {"59 23 31 12 *", "Australia/Lord_Howe"},  // a 30-minute DST shift
      {"*/10 1-3 * * *", "Australia/Lord_Howe"},
  };
  std::vector<TimePoint> samples;
  for (const char* day : {"2024-03-30 20:00", "2024-10-26 20:00", "2024-03-09 20:00", "2024-11-02 20:00",
                          "2024-04-06 12:00", "2024-10-05 12:00"}) {
    for (TimePoint t = Utc(day); t < Utc(day) + 16h; t += 7min + 13s) samples.push_back(t);
  }
  std::mt19937_64 rng(20240229);
  std::uniform_int_distribution<int64_t> secs(0, int64_t{3} * 365 * 86400);
  for (int i = 0; i < 300; ++i) samples.push_back(Utc("2023-01-01 00:00") + std::chrono::seconds(secs(rng)));

  for (const auto& [expr, tz] : schedules) {
    const CronSchedule s = Must(expr, tz);
    for (TimePoint t : samples) {
      const TimePoint n = s.Next(t);
      ASSERT_GT(n, t) << expr << " " << tz << " " << Str(t);
      ASSERT_EQ(s.MissedRun(t, n), n) << expr << " " << tz << " " << Str(t);
      ASSERT_EQ(s.MissedRun(t, n - 1ns), std::nullopt) << expr << " " << tz << " " << Str(t);
      const std::optional<TimePoint> p = s.MissedRun(t - 40h, t);
      if (p) {
        ASSERT_LE(*p, t);
        ASSERT_GT(s.Next(*p), t) << expr << " " << tz << " " << Str(t) << " p=" << Str(*p);
      } else {
        ASSERT_GT(s.Next(t - 40h), t) << expr << " " << tz << " " << Str(t);
      }
    }
  }
}

}  // namespace
}  // namespace cairn::op::backup
