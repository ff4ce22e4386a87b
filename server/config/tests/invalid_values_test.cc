// Invalid values: numbers, durations, URLs, cluster state, initial cluster, and the
// cross-field rules etcd enforces (embed.Config.Validate).
#include "server/config/tests/test_util.h"

namespace cairn::config::testing {
namespace {

using ::testing::HasSubstr;

TEST(InvalidValuesTest, Numbers) {
  EXPECT_THAT(
      LoadError({"--max-txn-ops=abc"}),
      HasSubstr(
          "cairn: invalid value \"abc\" for flag --max-txn-ops: not a valid non-negative integer"));
  EXPECT_THAT(LoadError({"--max-txn-ops=-1"}), HasSubstr("must not be negative"));
  EXPECT_THAT(LoadError({"--snapshot-count=99999999999999999999"}), HasSubstr("out of range"));
  EXPECT_THAT(LoadError({"--quota-backend-bytes=1GB"}), HasSubstr("not a valid integer"));
  auto hex = Load({"--max-request-bytes=0x200000"});  // Go's base-0 parsing
  ASSERT_TRUE(hex.ok());
  EXPECT_EQ(hex->config.max_request_bytes, 0x200000u);
}

TEST(InvalidValuesTest, BcryptCostOutsideBcryptsRange) {
  EXPECT_THAT(LoadError({"--bcrypt-cost=3"}), HasSubstr("--bcrypt-cost 3 is outside bcrypt's range 4..31"));
  EXPECT_THAT(LoadError({"--bcrypt-cost=32"}), HasSubstr("outside bcrypt's range"));
  auto ok = Load({"--bcrypt-cost=4", "--auth-token-ttl=7"});
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->config.bcrypt_cost, 4u);
  EXPECT_EQ(ok->config.auth_token_ttl_seconds, 7u);
}

TEST(InvalidValuesTest, Durations) {
  EXPECT_THAT(LoadError({"--grpc-keepalive-timeout=10"}), HasSubstr("missing unit in duration"));
  EXPECT_THAT(LoadError({"--grpc-keepalive-timeout=10x"}), HasSubstr("unknown unit"));
  EXPECT_THAT(LoadError({"--grpc-keepalive-timeout=-5s"}), HasSubstr("must not be negative"));
  auto ok = Load(
      {"--grpc-keepalive-min-time=1m30s", "--experimental-watch-progress-notify-interval=500ms"});
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->config.grpc_keepalive_min_time, std::chrono::seconds(90));
  EXPECT_EQ(ok->config.experimental_watch_progress_notify_interval, std::chrono::milliseconds(500));
}

TEST(InvalidValuesTest, Urls) {
  EXPECT_THAT(LoadError({"--listen-peer-urls=ftp://10.0.0.1:2380"}),
              HasSubstr("URL scheme must be http, https, unix, or unixs: ftp://10.0.0.1:2380"));
  EXPECT_THAT(LoadError({"--listen-peer-urls=http://10.0.0.1"}),
              HasSubstr("URL address does not have the form \"host:port\": http://10.0.0.1"));
  EXPECT_THAT(LoadError({"--initial-advertise-peer-urls=http://10.0.0.1:2380/x"}),
              HasSubstr("URL must not contain a path"));
  EXPECT_THAT(LoadError({"--listen-peer-urls=http://10.0.0.1:99999"}), HasSubstr("invalid port"));
  EXPECT_THAT(LoadError({"--listen-peer-urls="}), HasSubstr("no valid URLs given"));
  EXPECT_THAT(LoadError({"--listen-client-urls=http://example.com:2379",
                         "--advertise-client-urls=http://example.com:2379"}),
              HasSubstr("expected IP in URL for binding (http://example.com:2379)"));
  EXPECT_THAT(LoadError({"--listen-client-urls=https://10.0.0.1:2379",
                         "--advertise-client-urls=https://10.0.0.1:2379"}),
              HasSubstr("TLS key/cert (--cert-file, --key-file) must be provided"));
}

TEST(InvalidValuesTest, ListenClientUrlsWithoutAdvertise) {
  EXPECT_EQ(
      LoadError({"--listen-client-urls=http://0.0.0.0:2379"}),
      "cairn: --advertise-client-urls is required when --listen-client-urls is set explicitly");
}

TEST(InvalidValuesTest, ClusterState) {
  EXPECT_THAT(LoadError({"--initial-cluster-state=old"}),
              HasSubstr("invalid value \"old\" for flag --initial-cluster-state: valid values are "
                        "\"new\", \"existing\""));
}

TEST(InvalidValuesTest, InitialCluster) {
  EXPECT_THAT(LoadError({"--initial-cluster=infra1"}), HasSubstr("is not of the form name=url"));
  EXPECT_THAT(LoadError({"--initial-cluster=infra1=10.0.0.1:2380"}),
              HasSubstr("URL scheme must be"));
  EXPECT_THAT(LoadError({"--initial-cluster==http://10.0.0.1:2380"}),
              HasSubstr("empty member name"));
}

TEST(InvalidValuesTest, Timing) {
  EXPECT_THAT(LoadError({"--heartbeat-interval=0"}), HasSubstr("--heartbeat-interval must be >0"));
  EXPECT_THAT(LoadError({"--heartbeat-interval=300", "--election-timeout=1000"}),
              HasSubstr("should be at least as 5 times as --heartbeat-interval[300ms]"));
  EXPECT_THAT(LoadError({"--election-timeout=60000"}), HasSubstr("is too long"));
}

TEST(InvalidValuesTest, AutoCompaction) {
  EXPECT_THAT(LoadError({"--auto-compaction-mode=daily"}),
              HasSubstr("valid values are \"periodic\", \"revision\""));
  EXPECT_THAT(LoadError({"--auto-compaction-retention=soon"}),
              HasSubstr("error parsing CompactionRetention"));
  EXPECT_THAT(LoadError({"--auto-compaction-mode=revision", "--auto-compaction-retention=1h"}),
              HasSubstr("revision mode needs a revision count"));
  auto hours = Load({"--auto-compaction-retention=5"});  // a bare number means hours
  ASSERT_TRUE(hours.ok());
  EXPECT_EQ(hours->config.auto_compaction_period, std::chrono::hours(5));
  auto minutes = Load({"--auto-compaction-retention=30m"});
  ASSERT_TRUE(minutes.ok());
  EXPECT_EQ(minutes->config.auto_compaction_period, std::chrono::minutes(30));
}

TEST(InvalidValuesTest, TlsVersionsAndLogLevel) {
  EXPECT_THAT(LoadError({"--tls-min-version=TLS1.1"}),
              HasSubstr("valid values are \"TLS1.2\", \"TLS1.3\""));
  EXPECT_THAT(LoadError({"--log-level=verbose"}),
              HasSubstr("invalid value \"verbose\" for flag --log-level"));
}

}  // namespace
}  // namespace cairn::config::testing
