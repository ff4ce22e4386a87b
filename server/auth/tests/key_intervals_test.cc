#include "server/auth/key_intervals.h"

#include <gtest/gtest.h>

namespace cairn::auth {
namespace {

const std::string kFromKey(1, '\0');

KeyIntervals Sealed(std::initializer_list<std::pair<std::string, std::string>> grants) {
  KeyIntervals set;
  for (const auto& [key, end] : grants) set.Add(key, end);
  set.Seal();
  return set;
}

TEST(KeyIntervalsTest, SingleKeyGrantCoversOnlyThatKey) {
  auto set = Sealed({{"foo", ""}});
  EXPECT_TRUE(set.Covers("foo", ""));
  EXPECT_FALSE(set.Covers("foo0", ""));
  EXPECT_FALSE(set.Covers("fo", ""));
  EXPECT_FALSE(set.Covers("foo", "fop"));  // a prefix range is more than the key
  EXPECT_TRUE(set.Covers("foo", std::string("foo") + '\0'));
}

TEST(KeyIntervalsTest, RangeGrantCoversSubrangesAndKeysInside) {
  auto set = Sealed({{"a", "c"}});
  EXPECT_TRUE(set.Covers("a", ""));
  EXPECT_TRUE(set.Covers("bzzz", ""));
  EXPECT_FALSE(set.Covers("c", ""));
  EXPECT_TRUE(set.Covers("a", "c"));
  EXPECT_TRUE(set.Covers("ab", "b"));
  EXPECT_FALSE(set.Covers("a", "d"));
  EXPECT_FALSE(set.Covers("a", kFromKey));
}

TEST(KeyIntervalsTest, FromKeyGrantCoversEverythingAfter) {
  auto set = Sealed({{"m", kFromKey}});
  EXPECT_TRUE(set.Covers("m", kFromKey));
  EXPECT_TRUE(set.Covers("zzz", ""));
  EXPECT_TRUE(set.Covers("x", kFromKey));
  EXPECT_FALSE(set.Covers("l", kFromKey));
  EXPECT_FALSE(set.Covers("a", ""));
}

TEST(KeyIntervalsTest, AdjacentGrantsCoverTheirUnion) {
  auto set = Sealed({{"b", "c"}, {"a", "b"}, {"c", ""}});
  EXPECT_TRUE(set.Covers("a", "c"));
  // "c" alone ends at "c\0": [a, c\0) is covered, [a, d) is not.
  EXPECT_TRUE(set.Covers("a", std::string("c") + '\0'));
  EXPECT_FALSE(set.Covers("a", "d"));
}

TEST(KeyIntervalsTest, GapBetweenGrantsIsNotCovered) {
  auto set = Sealed({{"a", "b"}, {"c", "d"}});
  EXPECT_FALSE(set.Covers("a", "d"));
  EXPECT_TRUE(set.Covers("c", "d"));
  EXPECT_FALSE(set.Covers("b", ""));
}

TEST(KeyIntervalsTest, EmptySetCoversNothing) {
  auto set = Sealed({});
  EXPECT_FALSE(set.Covers("a", ""));
  EXPECT_FALSE(set.Covers("", kFromKey));
}

}  // namespace
}  // namespace cairn::auth
