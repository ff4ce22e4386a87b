// --initial-cluster parsing and etcd's bootstrap membership checks.
#include "server/config/initial_cluster.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/config/load_config.h"

namespace cairn::config {
namespace {

using ::testing::HasSubstr;

std::vector<Url> Urls(const std::string& text) { return *ParseUrlList(text, false); }

TEST(InitialClusterTest, ParsesMembersAndRepeatedNames) {
  auto c =
      ParseInitialCluster("a=http://10.0.0.1:2380,b=http://10.0.0.2:2380,a=http://10.0.1.1:2380,");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ(UrlListString(c->at("a")), "http://10.0.0.1:2380,http://10.0.1.1:2380");
  EXPECT_EQ(InitialClusterString(*c),
            "a=http://10.0.0.1:2380,a=http://10.0.1.1:2380,b=http://10.0.0.2:2380");
  EXPECT_TRUE(ParseInitialCluster("")->empty());
}

TEST(InitialClusterTest, RejectsMalformedEntries) {
  EXPECT_THAT(ParseInitialCluster("a").status().message(), HasSubstr("not of the form name=url"));
  EXPECT_THAT(ParseInitialCluster("a=").status().message(), HasSubstr("URL scheme must be"));
  EXPECT_THAT(ParseInitialCluster("a=http://x").status().message(), HasSubstr("host:port"));
}

TEST(InitialClusterTest, BootstrapNeedsLocalMember) {
  auto c = *ParseInitialCluster("a=http://10.0.0.1:2380");
  EXPECT_EQ(VerifyBootstrapCluster(c, "b", Urls("http://10.0.0.2:2380"), true).message(),
            "couldn't find local name \"b\" in the initial cluster configuration");
  EXPECT_FALSE(VerifyBootstrapCluster(c, "b", Urls("http://10.0.0.2:2380"), false).ok());
  EXPECT_TRUE(VerifyBootstrapCluster(c, "a", Urls("http://10.0.0.1:2380"), true).ok());
}

TEST(InitialClusterTest, BootstrapRejectsDuplicatesAndMismatch) {
  auto dup = *ParseInitialCluster("a=http://10.0.0.1:2380,b=http://10.0.0.1:2380");
  EXPECT_THAT(VerifyBootstrapCluster(dup, "a", Urls("http://10.0.0.1:2380"), true).message(),
              HasSubstr("has duplicate url"));
  auto c = *ParseInitialCluster("a=http://10.0.0.1:2380,b=http://10.0.0.2:2380");
  EXPECT_THAT(VerifyBootstrapCluster(c, "a", Urls("http://10.0.0.9:2380"), true).message(),
              HasSubstr("--initial-cluster must include a=http://10.0.0.9:2380"));
  // Joining an existing cluster does not compare advertised URLs (etcd VerifyJoinExisting).
  EXPECT_TRUE(VerifyBootstrapCluster(c, "a", Urls("http://10.0.0.9:2380"), false).ok());
  EXPECT_THAT(VerifyBootstrapCluster({}, "a", Urls("http://10.0.0.1:2380"), true).message(),
              HasSubstr("initial cluster unset"));
}

TEST(InitialClusterTest, LoadedConfigVerifiesAgainstItsOwnFlags) {
  auto ok = LoadConfig({"--name=a", "--initial-advertise-peer-urls=http://10.0.0.1:2380",
                        "--initial-cluster=a=http://10.0.0.1:2380,b=http://10.0.0.2:2380"},
                       {});
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_TRUE(ok->config.VerifyBootstrap().ok());
  // Loading succeeds (a restart would ignore --initial-cluster, as in etcd), but a
  // bootstrap of member "c" must fail.
  auto missing = LoadConfig({"--name=c", "--initial-cluster=a=http://10.0.0.1:2380"}, {});
  ASSERT_TRUE(missing.ok()) << missing.status().message();
  EXPECT_EQ(missing->config.VerifyBootstrap().message(),
            "couldn't find local name \"c\" in the initial cluster configuration");
}

}  // namespace
}  // namespace cairn::config
