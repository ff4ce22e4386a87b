// With no flags, no environment and no config file, the config is etcd's defaults.
#include "server/config/tests/test_util.h"

namespace cairn::config::testing {
namespace {

TEST(DefaultsTest, EmptyCommandLineGivesEtcdDefaults) {
  auto r = Load({});
  ASSERT_TRUE(r.ok()) << r.status().message();
  const ServerConfig& c = r->config;
  EXPECT_EQ(c.name, "default");
  EXPECT_EQ(c.data_dir, "default.etcd");
  EXPECT_EQ(c.wal_dir, "");
  EXPECT_EQ(c.EffectiveWalDir(), "default.etcd/member/wal");
  EXPECT_EQ(UrlListString(c.listen_client_urls), "http://localhost:2379");
  EXPECT_EQ(UrlListString(c.advertise_client_urls), "http://localhost:2379");
  EXPECT_EQ(UrlListString(c.listen_peer_urls), "http://localhost:2380");
  EXPECT_EQ(UrlListString(c.initial_advertise_peer_urls), "http://localhost:2380");
  EXPECT_EQ(c.initial_cluster, "default=http://localhost:2380");
  ASSERT_EQ(c.initial_cluster_members.size(), 1u);
  EXPECT_EQ(c.initial_cluster_members.at("default").at(0).String(), "http://localhost:2380");
  EXPECT_EQ(c.initial_cluster_state, ClusterState::kNew);
  EXPECT_EQ(c.initial_cluster_token, "etcd-cluster");
  EXPECT_EQ(c.snapshot_count, 100000u);
  EXPECT_EQ(c.max_wals, 5u);
  EXPECT_EQ(c.heartbeat_interval_ms, 100u);
  EXPECT_EQ(c.election_timeout_ms, 1000u);
  EXPECT_EQ(c.max_request_bytes, 1572864u);
  EXPECT_EQ(c.max_txn_ops, 128u);
  EXPECT_EQ(c.quota_backend_bytes, 0);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.grpc_keepalive_min_time, std::chrono::seconds(5));
  EXPECT_EQ(c.grpc_keepalive_interval, std::chrono::hours(2));
  EXPECT_EQ(c.grpc_keepalive_timeout, std::chrono::seconds(20));
  EXPECT_EQ(c.auto_compaction_mode, AutoCompactionMode::kPeriodic);
  EXPECT_EQ(c.auto_compaction_retention, "0");
  EXPECT_EQ(c.experimental_watch_progress_notify_interval, std::chrono::minutes(10));
  EXPECT_TRUE(c.strict_reconfig_check);
  EXPECT_TRUE(c.pre_vote);
  EXPECT_TRUE(c.initial_election_tick_advance);
  EXPECT_FALSE(c.enable_pprof);
  EXPECT_EQ(c.metrics, "basic");
  EXPECT_TRUE(c.listen_metrics_urls.empty());
  EXPECT_FALSE(c.client_tls.Enabled());
  EXPECT_FALSE(c.peer_tls.Enabled());
  EXPECT_EQ(c.auth_token, "simple");
  EXPECT_FALSE(r->show_help);
  EXPECT_FALSE(r->show_version);
}

TEST(DefaultsTest, MissingDataDirIsAnnouncedLikeEtcd) {
  auto r = Load({});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->warnings,
              ::testing::Contains(::testing::HasSubstr("default data-dir \"default.etcd\"")));
}

TEST(DefaultsTest, DataDirFollowsName) {
  auto r = Load({"--name", "infra1"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->config.data_dir, "infra1.etcd");
}

TEST(DefaultsTest, NameAloneDerivesOneMemberInitialCluster) {
  // etcd's UpdateDefaultClusterFromName: "etcd --name foo" must not fail on "default=...".
  auto r = Load({"--name=infra1", "--initial-advertise-peer-urls=http://10.0.0.1:2380"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->config.initial_cluster, "infra1=http://10.0.0.1:2380");
  EXPECT_EQ(r->config.initial_cluster_members.count("infra1"), 1u);
}

TEST(DefaultsTest, ExplicitInitialClusterIsKept) {
  auto r = Load({"--name=a", "--initial-cluster=a=http://10.0.0.1:2380,b=http://10.0.0.2:2380"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->config.initial_cluster_members.size(), 2u);
}

TEST(DefaultsTest, DefaultConfigHasNoWarningsBesidesDataDir) {
  auto r = Load({"--data-dir=/var/lib/cairn"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->warnings.empty()) << r->warnings.at(0);
}

}  // namespace
}  // namespace cairn::config::testing
