// Every syntax form of Go's flag package that etcd accepts, and its syntax errors.
#include "server/config/tests/test_util.h"

namespace cairn::config::testing {
namespace {

using ::testing::HasSubstr;

TEST(FlagSyntaxTest, AllFourValueForms) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--max-txn-ops=256"},
                                                                {"--max-txn-ops", "256"},
                                                                {"-max-txn-ops=256"},
                                                                {"-max-txn-ops", "256"}}) {
    auto r = Load(args);
    ASSERT_TRUE(r.ok()) << args[0] << ": " << r.status().message();
    EXPECT_EQ(r->config.max_txn_ops, 256u) << args[0];
  }
}

TEST(FlagSyntaxTest, BooleanForms) {
  auto bare =
      Load({"--strict-reconfig-check=false", "--pre-vote=0", "-initial-election-tick-advance=F"});
  ASSERT_TRUE(bare.ok()) << bare.status().message();
  EXPECT_FALSE(bare->config.strict_reconfig_check);
  EXPECT_FALSE(bare->config.pre_vote);
  EXPECT_FALSE(bare->config.initial_election_tick_advance);

  auto on = Load({"--pre-vote=false", "--pre-vote"});  // bare means true; last wins
  ASSERT_TRUE(on.ok());
  EXPECT_TRUE(on->config.pre_vote);

  auto explicit_true = Load({"--client-cert-auth=TRUE", "--cert-file=c", "--key-file=k"});
  ASSERT_TRUE(explicit_true.ok()) << explicit_true.status().message();
  EXPECT_TRUE(explicit_true->config.client_tls.client_cert_auth);
}

TEST(FlagSyntaxTest, BooleanDoesNotConsumeNextArgument) {
  // Go: "--pre-vote false" leaves "false" as a positional argument, which etcd rejects.
  EXPECT_THAT(LoadError({"--pre-vote", "false"}), HasSubstr("\"false\" is not a valid flag"));
}

TEST(FlagSyntaxTest, ValueMayStartWithDash) {
  auto r = Load({"--name", "-odd-name"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->config.name, "-odd-name");
}

TEST(FlagSyntaxTest, ValueMayContainEquals) {
  auto r = Load({"--initial-cluster=default=http://localhost:2380"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->config.initial_cluster, "default=http://localhost:2380");
}

TEST(FlagSyntaxTest, LastOccurrenceWins) {
  auto r = Load({"--name=a", "--name=b"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->config.name, "b");
}

TEST(FlagSyntaxTest, MissingValueIsAnError) {
  EXPECT_THAT(LoadError({"--data-dir"}), HasSubstr("flag needs an argument: --data-dir"));
}

TEST(FlagSyntaxTest, BadSyntaxIsAnError) {
  EXPECT_THAT(LoadError({"---name=x"}), HasSubstr("bad flag syntax"));
  EXPECT_THAT(LoadError({"--=x"}), HasSubstr("bad flag syntax"));
}

TEST(FlagSyntaxTest, PositionalArgumentsAreErrors) {
  EXPECT_THAT(LoadError({"serve"}), HasSubstr("\"serve\" is not a valid flag"));
  EXPECT_THAT(LoadError({"--name=a", "--", "x"}), HasSubstr("\"x\" is not a valid flag"));
  EXPECT_TRUE(Load({"--name=a", "--"}).ok());
}

TEST(FlagSyntaxTest, HelpForms) {
  for (const char* h : {"-h", "--h", "-help", "--help"}) {
    auto r = Load({h});
    ASSERT_TRUE(r.ok()) << h;
    EXPECT_TRUE(r->show_help) << h;
  }
}

TEST(FlagSyntaxTest, HelpStopsParsingLikeGo) {
  auto r = Load({"--help", "--no-such-flag"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->show_help);
  EXPECT_THAT(LoadError({"--no-such-flag", "--help"}), HasSubstr("unknown flag --no-such-flag"));
}

TEST(FlagSyntaxTest, Version) {
  auto r = Load({"--version"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->show_version);
  auto off = Load({"--version=false"});
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->show_version);
}

TEST(FlagSyntaxTest, HelpTextListsFlagsWithDefaultsAndClassification) {
  const std::string help = HelpText();
  EXPECT_THAT(help, HasSubstr("--name 'default'"));
  EXPECT_THAT(help, HasSubstr("--max-request-bytes '1572864'"));
  EXPECT_THAT(help, HasSubstr("--grpc-keepalive-interval '2h0m0s'"));
  EXPECT_THAT(help, HasSubstr("[Cairn: accepted but ignored]"));
  EXPECT_THAT(help, HasSubstr("[Cairn: not supported yet"));
}

}  // namespace
}  // namespace cairn::config::testing
