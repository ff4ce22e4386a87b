// --config-file: etcd's YAML keys and types, unknown keys, and how the file interacts
// with flags and environment variables (etcd: the file wins, the rest is ignored).
#include "server/config/tests/test_util.h"

namespace cairn::config::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kValid[] = R"(
name: infra1
data-dir: /var/lib/etcd
wal-dir: /wal
snapshot-count: 5000
heartbeat-interval: 200
election-timeout: 2000
listen-peer-urls: http://10.0.0.1:2380
listen-client-urls: http://10.0.0.1:2379,http://127.0.0.1:2379
initial-advertise-peer-urls: http://10.0.0.1:2380
advertise-client-urls: http://10.0.0.1:2379
initial-cluster: infra1=http://10.0.0.1:2380,infra2=http://10.0.0.2:2380
initial-cluster-token: my-token
initial-cluster-state: existing
max-txn-ops: 1024
quota-backend-bytes: 8589934592
grpc-keepalive-interval: 3600000000000
experimental-watch-progress-notify-interval: 5000000000
strict-reconfig-check: false
auto-compaction-mode: revision
auto-compaction-retention: "1000"
log-level: warn
client-transport-security:
  cert-file: /etc/ssl/server.crt
  key-file: /etc/ssl/server.key
  client-cert-auth: true
  trusted-ca-file: /etc/ssl/ca.crt
peer-transport-security:
  auto-tls: true
  allowed-cn: [peer.example.com]
)";

TEST(ConfigFileTest, ValidFileSetsEverything) {
  auto r = Load({"--config-file", WriteTempFile(kValid)});
  ASSERT_TRUE(r.ok()) << r.status().message();
  const ServerConfig& c = r->config;
  EXPECT_EQ(c.name, "infra1");
  EXPECT_EQ(c.data_dir, "/var/lib/etcd");
  EXPECT_EQ(c.EffectiveWalDir(), "/wal");
  EXPECT_EQ(c.snapshot_count, 5000u);
  EXPECT_EQ(c.heartbeat_interval_ms, 200u);
  EXPECT_EQ(c.election_timeout_ms, 2000u);
  EXPECT_EQ(UrlListString(c.listen_client_urls), "http://10.0.0.1:2379,http://127.0.0.1:2379");
  EXPECT_EQ(c.initial_cluster_members.size(), 2u);
  EXPECT_EQ(c.initial_cluster_token, "my-token");
  EXPECT_EQ(c.initial_cluster_state, ClusterState::kExisting);
  EXPECT_EQ(c.max_txn_ops, 1024u);
  EXPECT_EQ(c.quota_backend_bytes, int64_t{8589934592});
  EXPECT_EQ(c.grpc_keepalive_interval, std::chrono::hours(1));
  EXPECT_EQ(c.experimental_watch_progress_notify_interval, std::chrono::seconds(5));
  EXPECT_FALSE(c.strict_reconfig_check);
  EXPECT_EQ(c.auto_compaction_mode, AutoCompactionMode::kRevision);
  EXPECT_EQ(c.auto_compaction_revisions, 1000);
  EXPECT_EQ(c.log_level, "warn");
  EXPECT_EQ(c.client_tls.cert_file, "/etc/ssl/server.crt");
  EXPECT_EQ(c.client_tls.key_file, "/etc/ssl/server.key");
  EXPECT_TRUE(c.client_tls.client_cert_auth);
  EXPECT_EQ(c.client_tls.trusted_ca_file, "/etc/ssl/ca.crt");
  EXPECT_TRUE(c.peer_tls.auto_tls);
  EXPECT_EQ(c.peer_tls.allowed_cns, std::vector<std::string>{"peer.example.com"});
  // Cairn always refuses reconfigurations that would lose quorum.
  EXPECT_THAT(r->warnings, ElementsAre(HasSubstr("\"strict-reconfig-check\" is accepted but ignored")));
}

TEST(ConfigFileTest, EmptyFileGivesDefaults) {
  auto r = Load({"--config-file=" + WriteTempFile("")});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->config.name, "default");
  EXPECT_EQ(r->config.max_txn_ops, 128u);
}

TEST(ConfigFileTest, EnvVariableNamesTheFile) {
  auto r = Load({}, {{"ETCD_CONFIG_FILE", WriteTempFile("name: from-file\n")}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->config.name, "from-file");
}

TEST(ConfigFileTest, UnknownKeyWarnsBecauseEtcdIgnoresIt) {
  auto r = Load({"--config-file", WriteTempFile("name: x\nno-such-key: 1\n"
                                                "client-transport-security:\n  bogus: 1\n")});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(r->warnings, Contains(HasSubstr("unknown key \"no-such-key\" ignored")));
  EXPECT_THAT(r->warnings, Contains(HasSubstr("unknown key \"client-transport-security.bogus\"")));
}

TEST(ConfigFileTest, FlagNamesThatAreNotFileKeysAreUnknown) {
  // etcd's file has no top-level cert-file; TLS lives under client-transport-security.
  auto r = Load({"--config-file", WriteTempFile("cert-file: /x\n")});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->warnings, Contains(HasSubstr("unknown key \"cert-file\"")));
  EXPECT_EQ(r->config.client_tls.cert_file, "");
}

TEST(ConfigFileTest, BadTypesAreErrors) {
  EXPECT_THAT(LoadError({"--config-file", WriteTempFile("max-txn-ops: lots\n")}),
              HasSubstr("invalid value \"lots\" for config file key \"max-txn-ops\""));
  EXPECT_THAT(LoadError({"--config-file", WriteTempFile("max-txn-ops: \"12\"\n")}),
              HasSubstr("key \"max-txn-ops\": expected an unquoted integer"));
  EXPECT_THAT(LoadError({"--config-file", WriteTempFile("pre-vote: maybe\n")}),
              HasSubstr("key \"pre-vote\": expected a boolean"));
  EXPECT_THAT(LoadError({"--config-file", WriteTempFile("advertise-client-urls: [http://a:1]\n")}),
              HasSubstr("expected one comma-separated string of URLs"));
  EXPECT_THAT(LoadError({"--config-file", WriteTempFile("log-outputs: stderr\n")}),
              HasSubstr("expected a YAML list of strings"));
  EXPECT_THAT(LoadError({"--config-file", WriteTempFile("client-transport-security: yes\n")}),
              HasSubstr("expected a map"));
}

TEST(ConfigFileTest, DurationsAreIntegerNanosecondsLikeEtcd) {
  EXPECT_THAT(LoadError({"--config-file", WriteTempFile("grpc-keepalive-timeout: 10s\n")}),
              HasSubstr("integer nanoseconds"));
}

TEST(ConfigFileTest, InvalidYamlIsAnError) {
  EXPECT_THAT(LoadError({"--config-file", WriteTempFile("name: [unclosed\n")}),
              HasSubstr("invalid YAML"));
  EXPECT_THAT(LoadError({"--config-file", WriteTempFile("- just\n- a list\n")}),
              HasSubstr("expected a YAML map"));
}

TEST(ConfigFileTest, MissingFileIsAnError) {
  EXPECT_THAT(LoadError({"--config-file=/nonexistent/cairn.yaml"}),
              HasSubstr("cannot read config file"));
}

TEST(ConfigFileTest, FileWinsAndOtherFlagsAndEnvAreIgnoredWithWarning) {
  auto r = Load(
      {"--config-file", WriteTempFile("name: from-file\n"), "--name=from-flag", "--max-txn-ops=7"},
      {{"ETCD_DATA_DIR", "/from-env"}, {"ETCD_NO_SUCH", "x"}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->config.name, "from-file");
  EXPECT_EQ(r->config.max_txn_ops, 128u);
  EXPECT_EQ(r->config.data_dir, "from-file.etcd");
  EXPECT_THAT(r->warnings,
              Contains(HasSubstr("these flags are ignored (as etcd does): --name, --max-txn-ops")));
  EXPECT_THAT(
      r->warnings,
      Contains(HasSubstr(
          "environment variables are ignored (as etcd does): ETCD_DATA_DIR, ETCD_NO_SUCH")));
}

TEST(ConfigFileTest, IgnoredFlagsAreStillSyntaxChecked) {
  // Go's flag.Parse runs before etcd looks at --config-file.
  const std::string file = WriteTempFile("name: x\n");
  EXPECT_THAT(LoadError({"--config-file", file, "--no-such-flag"}),
              HasSubstr("unknown flag --no-such-flag"));
  EXPECT_THAT(LoadError({"--config-file", file, "--max-txn-ops=abc"}),
              HasSubstr("invalid value \"abc\""));
}

TEST(ConfigFileTest, CipherSuitesAreAListOfGoNames) {
  auto r = Load({"--config-file", WriteTempFile("cipher-suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n")});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->config.cipher_suites, std::vector<std::string>{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"});
  EXPECT_THAT(LoadError({"--config-file", WriteTempFile("cipher-suites: [RC4]\n")}),
              HasSubstr("unexpected TLS cipher suite \"RC4\""));
}

TEST(ConfigFileTest, RefusedAndIgnoredSettingsInFile) {
  EXPECT_THAT(LoadError({"--config-file", WriteTempFile("force-new-cluster: true\n")}),
              HasSubstr("config file key \"force-new-cluster\" is not supported yet"));
  EXPECT_THAT(LoadError({"--config-file",
                         WriteTempFile("peer-transport-security:\n  client-cert-file: /p.crt\n")}),
              HasSubstr("\"peer-transport-security.client-cert-file\" is not supported yet"));
  EXPECT_TRUE(Load({"--config-file", WriteTempFile("enable-v2: false\nproxy: 'off'\n")}).ok());
  auto r = Load({"--config-file", WriteTempFile("enable-pprof: true\nlog-outputs: [stderr]\n")});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(r->warnings,
              Contains(HasSubstr("config file key \"enable-pprof\" is accepted but ignored")));
  EXPECT_THAT(r->warnings,
              Contains(HasSubstr("config file key \"log-outputs\" is accepted but ignored")));
}

TEST(ConfigFileTest, NullValueKeepsDefault) {
  auto r = Load({"--config-file", WriteTempFile("max-txn-ops:\nname: ~\n")});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->config.max_txn_ops, 128u);
  EXPECT_EQ(r->config.name, "default");
}

}  // namespace
}  // namespace cairn::config::testing
