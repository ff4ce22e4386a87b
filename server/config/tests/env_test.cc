// ETCD_<FLAG> environment variables and their precedence, following etcd's pkg/flags.
#include "server/config/tests/test_util.h"

namespace cairn::config::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

TEST(EnvTest, VariablesSetFlags) {
  auto r = Load({}, {{"ETCD_NAME", "infra1"},
                     {"ETCD_DATA_DIR", "/var/lib/etcd"},
                     {"ETCD_MAX_TXN_OPS", "512"},
                     {"ETCD_PRE_VOTE", "false"},
                     {"ETCD_INITIAL_CLUSTER_STATE", "existing"},
                     {"ETCD_INITIAL_CLUSTER", "infra1=http://10.0.0.1:2380"}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->config.name, "infra1");
  EXPECT_EQ(r->config.data_dir, "/var/lib/etcd");
  EXPECT_EQ(r->config.max_txn_ops, 512u);
  EXPECT_FALSE(r->config.pre_vote);
  EXPECT_EQ(r->config.initial_cluster_state, ClusterState::kExisting);
  EXPECT_TRUE(r->warnings.empty()) << r->warnings.at(0);
}

TEST(EnvTest, FlagAndVariableForSameSettingIsAnErrorLikeEtcd) {
  // etcd 3.4+: "conflicting environment variable ... is shadowed by corresponding
  // command-line flag (either unset environment variable or disable flag)" is fatal.
  EXPECT_THAT(LoadError({"--name=a"}, {{"ETCD_NAME", "b"}}),
              HasSubstr("conflicting environment variable ETCD_NAME is shadowed by corresponding "
                        "command-line flag --name"));
}

TEST(EnvTest, VariablesAndFlagsCombineWhenDisjoint) {
  auto r = Load({"--name=a"}, {{"ETCD_DATA_DIR", "/d"}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->config.name, "a");
  EXPECT_EQ(r->config.data_dir, "/d");
}

TEST(EnvTest, UnrecognizedEtcdVariableWarnsWithoutValue) {
  auto r = Load({}, {{"ETCD_NO_SUCH_THING", "secret"}, {"HOME", "/root"}, {"ETCDCTL_API", "3"}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(r->warnings, Contains("cairn: unrecognized environment variable ETCD_NO_SUCH_THING"));
  for (const std::string& w : r->warnings) {
    EXPECT_THAT(w, ::testing::Not(HasSubstr("secret")));
    EXPECT_THAT(w, ::testing::Not(HasSubstr("ETCDCTL_API")));
    EXPECT_THAT(w, ::testing::Not(HasSubstr("HOME")));
  }
}

TEST(EnvTest, NamesAreCaseSensitive) {
  auto r = Load({}, {{"ETCD_name", "x"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->config.name, "default");
  EXPECT_THAT(r->warnings, Contains("cairn: unrecognized environment variable ETCD_name"));
}

TEST(EnvTest, EmptyVariableIsUnset) {
  auto r = Load({}, {{"ETCD_NAME", ""}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->config.name, "default");
}

TEST(EnvTest, EtcdVersionIsSpecialAndIgnored) {
  auto r = Load({}, {{"ETCD_VERSION", "true"}});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->show_version);
  EXPECT_THAT(r->warnings,
              Contains(HasSubstr("cannot set special environment variable ETCD_VERSION")));
}

TEST(EnvTest, InvalidValueNamesTheVariable) {
  EXPECT_THAT(LoadError({}, {{"ETCD_MAX_TXN_OPS", "lots"}}),
              HasSubstr("invalid value \"lots\" for ETCD_MAX_TXN_OPS (flag --max-txn-ops)"));
}

TEST(EnvTest, RefusedFlagThroughVariableIsRefused) {
  EXPECT_THAT(LoadError({}, {{"ETCD_DISCOVERY", "https://discovery.etcd.io/x"}}),
              HasSubstr("ETCD_DISCOVERY (flag --discovery) is not supported yet"));
}

TEST(EnvTest, ListenClientUrlsFromEnvNeedsAdvertiseToo) {
  EXPECT_THAT(
      LoadError({}, {{"ETCD_LISTEN_CLIENT_URLS", "http://0.0.0.0:2379"}}),
      HasSubstr("--advertise-client-urls is required when --listen-client-urls is set explicitly"));
  EXPECT_TRUE(Load({"--advertise-client-urls=http://10.0.0.1:2379"},
                   {{"ETCD_LISTEN_CLIENT_URLS", "http://0.0.0.0:2379"}})
                  .ok());
}

}  // namespace
}  // namespace cairn::config::testing
