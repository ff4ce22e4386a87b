// Version parsing, ordering and etcd's rules for changing a running cluster's version.
#include "operator/api/version.h"

#include <gtest/gtest.h>

namespace cairn::op {
namespace {

Version V(const char* s) {
  auto v = Version::Parse(s);
  EXPECT_TRUE(v.has_value()) << s;
  return v.value_or(Version{});
}

TEST(Version, ParsesReleasesPrereleasesAndALeadingV) {
  EXPECT_EQ(V("1.2.3").ToString(), "1.2.3");
  EXPECT_EQ(V("v0.10.0").ToString(), "0.10.0");
  EXPECT_EQ(V("0.2.0-rc.1").prerelease, "rc.1");
  for (const char* bad : {"", "1", "1.2", "1.2.", "1.2.x", "a.b.c", "1.2.3-", "1.2.3+meta", "-1.2.3", "1..2"}) {
    EXPECT_FALSE(Version::Parse(bad).has_value()) << bad;
  }
}

TEST(Version, OrdersNumericallyAndPrereleasesBeforeTheirRelease) {
  EXPECT_LT(V("0.9.0"), V("0.10.0"));
  EXPECT_LT(V("0.2.0-rc.1"), V("0.2.0"));
  EXPECT_LT(V("0.2.0-alpha"), V("0.2.0-beta"));
  EXPECT_GT(V("1.0.0"), V("0.99.99"));
  EXPECT_EQ(V("v1.2.3"), V("1.2.3"));
}

TEST(Version, UpgradesOneMinorAtATime) {
  EXPECT_EQ(RefuseVersionChange(V("0.1.0"), V("0.1.7"), false), "");
  EXPECT_EQ(RefuseVersionChange(V("0.1.3"), V("0.2.0"), false), "");
  EXPECT_EQ(RefuseVersionChange(V("0.9.1"), V("1.0.0"), false), "");
  EXPECT_NE(RefuseVersionChange(V("0.1.0"), V("0.3.0"), false).find("one minor version at a time"), std::string::npos);
  EXPECT_NE(RefuseVersionChange(V("0.9.0"), V("1.1.0"), false), "");
  EXPECT_NE(RefuseVersionChange(V("1.0.0"), V("3.0.0"), false), "");
}

TEST(Version, DowngradesOnlyWhenAllowedAndOneMinorAtATime) {
  std::string why = RefuseVersionChange(V("0.2.0"), V("0.1.0"), false);
  EXPECT_NE(why.find("spec.allowDowngrade"), std::string::npos) << why;
  EXPECT_NE(RefuseVersionChange(V("0.2.1"), V("0.2.0"), false), "") << "a patch downgrade is a downgrade too";
  EXPECT_EQ(RefuseVersionChange(V("0.2.0"), V("0.1.0"), true), "");
  EXPECT_NE(RefuseVersionChange(V("0.3.0"), V("0.1.0"), true).find("one minor version at a time"), std::string::npos);
}

}  // namespace
}  // namespace cairn::op
