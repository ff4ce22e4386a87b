// Go duration syntax (time.ParseDuration).
#include "server/config/duration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cairn::config {
namespace {

using namespace std::chrono_literals;

TEST(DurationTest, ParsesGoSyntax) {
  EXPECT_EQ(*ParseGoDuration("0"), 0ns);
  EXPECT_EQ(*ParseGoDuration("10m"), 10min);
  EXPECT_EQ(*ParseGoDuration("500ms"), 500ms);
  EXPECT_EQ(*ParseGoDuration("1h30m"), 90min);
  EXPECT_EQ(*ParseGoDuration("1.5s"), 1500ms);
  EXPECT_EQ(*ParseGoDuration(".5s"), 500ms);
  EXPECT_EQ(*ParseGoDuration("2us"), 2us);
  EXPECT_EQ(*ParseGoDuration("2\xC2\xB5s"), 2us);
  EXPECT_EQ(*ParseGoDuration("7ns"), 7ns);
  EXPECT_EQ(*ParseGoDuration("-1s"), -1s);
  EXPECT_EQ(*ParseGoDuration("+2h"), 2h);
  EXPECT_EQ(*ParseGoDuration("9223372036854775807ns"), std::chrono::nanoseconds::max());
}

TEST(DurationTest, RejectsInvalid) {
  for (const char* bad :
       {"", "10", "s", "1x", "1.s.", "-", "1h-2m", "9223372036854775808ns", "3000000h"}) {
    EXPECT_FALSE(ParseGoDuration(bad).ok()) << bad;
  }
  EXPECT_EQ(ParseGoDuration("10").status().message(), "time: missing unit in duration \"10\"");
}

}  // namespace
}  // namespace cairn::config
