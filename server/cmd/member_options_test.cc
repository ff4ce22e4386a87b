// Every flag the registry calls implemented reaches what it configures. A flag parsed
// into ServerConfig and never passed on (as --pre-vote once was) passes every parsing
// test; here each one must change the member's options, or name the test that checks
// it where it acts. A flag added as implemented without either fails this test.
#include "server/cmd/member_options.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "server/config/flag_registry.h"
#include "server/config/load_config.h"

namespace cairn::cmd {
namespace {

using etcdserver::ServerOptions;
using namespace std::chrono_literals;

struct Reach {
  std::vector<std::string> args;  // the flag at a value other than its default
  std::function<bool(const ServerOptions&)> configured;  // what that value must change
};

// Flags that act outside ServerOptions, and the test that shows each one acting.
const std::map<std::string, std::string> kCheckedWhereTheyAct = {
    {"config-file", "config_test ConfigFileTest.*, test_cli_and_startup.py::test_config_file_configures_the_member"},
    {"version", "test_cli_and_startup.py::test_version_and_help"},
    {"listen-peer-urls", "every cluster test: members dial each other there (cluster.py)"},
    {"listen-client-urls", "every integration test: clients dial the member there (cluster.py)"},
    {"listen-metrics-urls", "test_gateway.py::test_metrics_urls_serve_metrics_and_health_only"},
    {"initial-advertise-peer-urls", "config_test InitialClusterTest.* (the bootstrap check is all it does)"},
    {"log-level", "test_cli_and_startup.py::test_log_level_hides_info_lines"},
    {"auto-tls", "test_tls.py::test_auto_tls_serves_a_generated_certificate_and_keeps_it_across_restarts"},
    {"peer-auto-tls", "test_tls.py::test_members_talk_tls_to_each_other_with_peer_auto_tls"},
    {"cipher-suites", "test_tls.py::test_cipher_suites_limit_what_tls_1_2_clients_may_negotiate"},
    {"self-signed-cert-validity", "test_tls.py::test_auto_tls_serves_a_generated_certificate_and_keeps_it_across_restarts"},
};

const std::map<std::string, Reach> kReaches = {
    {"name", {{"--name=m1"}, [](const ServerOptions& o) { return o.name == "m1"; }}},
    {"data-dir", {{"--data-dir=/d"}, [](const ServerOptions& o) { return o.data_dir.root == "/d"; }}},
    {"wal-dir", {{"--wal-dir=/w"}, [](const ServerOptions& o) { return o.data_dir.WalDir() == "/w"; }}},
    {"snapshot-count", {{"--snapshot-count=7"}, [](const ServerOptions& o) { return o.snapshot_count == 7; }}},
    {"experimental-peer-skip-client-san-verification",
     {{"--experimental-peer-skip-client-san-verification"},
      [](const ServerOptions& o) { return o.peer_tls.skip_client_san_verification; }}},
    {"peer-skip-client-san-verification",
     {{"--peer-skip-client-san-verification"}, [](const ServerOptions& o) { return o.peer_tls.skip_client_san_verification; }}},
    {"heartbeat-interval",
     {{"--heartbeat-interval=50"}, [](const ServerOptions& o) { return o.heartbeat_interval == 50ms; }}},
    {"election-timeout",
     {{"--election-timeout=3000"}, [](const ServerOptions& o) { return o.election_timeout == 3000ms; }}},
    {"max-wals", {{"--max-wals=3"}, [](const ServerOptions& o) { return o.wal.max_files == 3; }}},
    {"quota-backend-bytes",
     {{"--quota-backend-bytes=4096"}, [](const ServerOptions& o) { return o.quota_backend_bytes == 4096; }}},
    {"max-txn-ops", {{"--max-txn-ops=9"}, [](const ServerOptions& o) { return o.max_txn_ops == 9; }}},
    {"max-request-bytes",
     {{"--max-request-bytes=1000"}, [](const ServerOptions& o) { return o.max_request_bytes == 1000; }}},
    {"grpc-keepalive-min-time",
     {{"--grpc-keepalive-min-time=1s"}, [](const ServerOptions& o) { return o.grpc_keepalive_min_time == 1s; }}},
    {"grpc-keepalive-interval",
     {{"--grpc-keepalive-interval=1m"}, [](const ServerOptions& o) { return o.grpc_keepalive_interval == 1min; }}},
    {"grpc-keepalive-timeout",
     {{"--grpc-keepalive-timeout=3s"}, [](const ServerOptions& o) { return o.grpc_keepalive_timeout == 3s; }}},
    {"snapshot-catchup-entries",
     {{"--snapshot-catchup-entries=11"}, [](const ServerOptions& o) { return o.snapshot_catchup_entries == 11; }}},
    {"experimental-snapshot-catchup-entries",
     {{"--experimental-snapshot-catchup-entries=12"},
      [](const ServerOptions& o) { return o.snapshot_catchup_entries == 12; }}},
    {"initial-cluster",
     {{"--initial-cluster=default=http://localhost:2380,b=http://b:2380"},
      [](const ServerOptions& o) { return o.initial_cluster.size() == 2 && o.initial_cluster.contains("b"); }}},
    {"initial-cluster-state",
     {{"--initial-cluster-state=existing"}, [](const ServerOptions& o) { return o.join_existing_cluster; }}},
    {"initial-cluster-token",
     {{"--initial-cluster-token=t"}, [](const ServerOptions& o) { return o.initial_cluster_token == "t"; }}},
    {"advertise-client-urls",
     {{"--advertise-client-urls=http://c:2379"},
      [](const ServerOptions& o) { return o.advertise_client_urls == std::vector<std::string>{"http://c:2379"}; }}},
    {"pre-vote", {{"--pre-vote=false"}, [](const ServerOptions& o) { return !o.pre_vote; }}},
    {"initial-election-tick-advance",
     {{"--initial-election-tick-advance=false"}, [](const ServerOptions& o) { return !o.initial_election_tick_advance; }}},
    {"auto-compaction-retention",
     {{"--auto-compaction-retention=2h"}, [](const ServerOptions& o) { return o.auto_compaction_period == 2h; }}},
    {"auto-compaction-mode",
     {{"--auto-compaction-mode=revision", "--auto-compaction-retention=5"},
      [](const ServerOptions& o) {
        return o.auto_compaction_mode == etcdserver::AutoCompactor::Mode::kRevision && o.auto_compaction_revisions == 5;
      }}},
    {"cert-file",
     {{"--cert-file=/c.crt", "--key-file=/c.key"}, [](const ServerOptions& o) { return o.client_tls.cert_file == "/c.crt"; }}},
    {"key-file",
     {{"--cert-file=/c.crt", "--key-file=/c.key"}, [](const ServerOptions& o) { return o.client_tls.key_file == "/c.key"; }}},
    {"client-cert-auth", {{"--client-cert-auth"}, [](const ServerOptions& o) { return o.client_tls.client_cert_auth; }}},
    {"client-crl-file",
     {{"--client-crl-file=/crl"}, [](const ServerOptions& o) { return o.client_tls.policy.crl_file == "/crl"; }}},
    {"client-cert-allowed-hostname",
     {{"--client-cert-allowed-hostname=h"},
      [](const ServerOptions& o) { return o.client_tls.policy.allowed_hostnames == std::vector<std::string>{"h"}; }}},
    {"trusted-ca-file",
     {{"--trusted-ca-file=/ca"}, [](const ServerOptions& o) { return o.client_tls.trusted_ca_file == "/ca"; }}},
    {"peer-cert-file",
     {{"--peer-cert-file=/p.crt", "--peer-key-file=/p.key"},
      [](const ServerOptions& o) { return o.peer_tls.cert_file == "/p.crt"; }}},
    {"peer-key-file",
     {{"--peer-cert-file=/p.crt", "--peer-key-file=/p.key"},
      [](const ServerOptions& o) { return o.peer_tls.key_file == "/p.key"; }}},
    {"peer-client-cert-auth",
     {{"--peer-client-cert-auth"}, [](const ServerOptions& o) { return o.peer_tls.client_cert_auth; }}},
    {"peer-trusted-ca-file",
     {{"--peer-trusted-ca-file=/pca"}, [](const ServerOptions& o) { return o.peer_tls.trusted_ca_file == "/pca"; }}},
    {"peer-crl-file",
     {{"--peer-crl-file=/pcrl"}, [](const ServerOptions& o) { return o.peer_tls.policy.crl_file == "/pcrl"; }}},
    {"peer-cert-allowed-cn",
     {{"--peer-cert-allowed-cn=cn"},
      [](const ServerOptions& o) { return o.peer_tls.policy.allowed_cns == std::vector<std::string>{"cn"}; }}},
    {"peer-cert-allowed-hostname",
     {{"--peer-cert-allowed-hostname=ph"},
      [](const ServerOptions& o) { return o.peer_tls.policy.allowed_hostnames == std::vector<std::string>{"ph"}; }}},
    {"auth-token", {{"--auth-token=jwt,pub-key=/k"}, [](const ServerOptions& o) { return o.auth_token == "jwt,pub-key=/k"; }}},
    {"bcrypt-cost", {{"--bcrypt-cost=4"}, [](const ServerOptions& o) { return o.bcrypt_cost == 4; }}},
    {"auth-token-ttl", {{"--auth-token-ttl=60"}, [](const ServerOptions& o) { return o.auth_token_ttl == 60s; }}},
    {"experimental-watch-progress-notify-interval",
     {{"--experimental-watch-progress-notify-interval=3s"},
      [](const ServerOptions& o) { return o.watch_progress_notify_interval == 3s; }}},
    {"watch-progress-notify-interval",
     {{"--watch-progress-notify-interval=4s"},
      [](const ServerOptions& o) { return o.watch_progress_notify_interval == 4s; }}},
};

ServerOptions OptionsFrom(const std::vector<std::string>& args) {
  auto loaded = config::LoadConfig(args, {});
  EXPECT_TRUE(loaded.ok()) << loaded.status().message();
  return loaded.ok() ? ToServerOptions(loaded->config) : ServerOptions{};
}

TEST(MemberOptionsTest, EveryImplementedFlagIsAccountedFor) {
  for (const config::FlagSpec& f : config::AllFlags()) {
    const std::string name(f.name);
    const bool reaches = kReaches.contains(name), elsewhere = kCheckedWhereTheyAct.contains(name);
    if (f.disposition == config::Disposition::kImplemented) {
      EXPECT_TRUE(reaches != elsewhere) << "--" << name << " must be in exactly one of the two tables";
    } else {
      EXPECT_FALSE(reaches || elsewhere) << "--" << name << " is not implemented, yet a table lists it";
    }
  }
}

TEST(MemberOptionsTest, EveryImplementedFlagChangesTheMembersOptions) {
  const ServerOptions defaults = OptionsFrom({});
  for (const auto& [flag, reach] : kReaches) {
    EXPECT_FALSE(reach.configured(defaults)) << "--" << flag << ": the check holds without the flag";
    EXPECT_TRUE(reach.configured(OptionsFrom(reach.args))) << "--" << flag << " does not reach the member";
  }
}

// A member built in-process (tests, tools) without flags must behave as one started
// with none: ServerOptions' own defaults are the flags' defaults.
TEST(MemberOptionsTest, TheMembersDefaultsAreTheFlagsDefaults) {
  const ServerOptions flags = OptionsFrom({}), plain;
  EXPECT_EQ(flags.max_request_bytes, plain.max_request_bytes);
  EXPECT_EQ(flags.quota_backend_bytes, plain.quota_backend_bytes);
  EXPECT_EQ(flags.max_txn_ops, plain.max_txn_ops);
  EXPECT_EQ(flags.snapshot_count, plain.snapshot_count);
  EXPECT_EQ(flags.snapshot_catchup_entries, plain.snapshot_catchup_entries);
  EXPECT_EQ(flags.heartbeat_interval, plain.heartbeat_interval);
  EXPECT_EQ(flags.election_timeout, plain.election_timeout);
  EXPECT_EQ(flags.pre_vote, plain.pre_vote);
  EXPECT_EQ(flags.grpc_keepalive_min_time, plain.grpc_keepalive_min_time);
  EXPECT_EQ(flags.grpc_keepalive_interval, plain.grpc_keepalive_interval);
  EXPECT_EQ(flags.grpc_keepalive_timeout, plain.grpc_keepalive_timeout);
  EXPECT_EQ(flags.watch_progress_notify_interval, plain.watch_progress_notify_interval);
  EXPECT_EQ(flags.auth_token, plain.auth_token);
  EXPECT_EQ(flags.auth_token_ttl, plain.auth_token_ttl);
  EXPECT_EQ(flags.bcrypt_cost, plain.bcrypt_cost);
  EXPECT_EQ(flags.initial_cluster_token, plain.initial_cluster_token);
  EXPECT_EQ(flags.name, plain.name);
  EXPECT_EQ(flags.wal.max_files, plain.wal.max_files);
}

}  // namespace
}  // namespace cairn::cmd
