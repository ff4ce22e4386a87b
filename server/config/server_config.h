// ServerConfig: every setting of a Cairn member, with etcd's defaults.
//
// Filled in by LoadConfig (load_config.h) from etcd-compatible flags, ETCD_* environment
// variables or an etcd YAML config file. A default-constructed ServerConfig holds etcd's
// defaults before the derivations LoadConfig makes (data_dir from name, initial_cluster
// from name); a ServerConfig returned by LoadConfig has passed validation, so its URLs
// parse, heartbeat/election timing is consistent and initial_cluster_members matches
// initial_cluster. Plain value type; not synchronized.
//
// Some fields are stored although Cairn does not act on them yet (metrics, pprof, the
// strict reconfiguration check): the flag registry (flag_registry.h) says which ones
// warn as ignored. Refused flags have no field: a non-default value never gets here.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "server/common/etcd_limits.h"
#include "server/common/status.h"
#include "server/config/initial_cluster.h"
#include "server/config/urls.h"

namespace cairn::config {

using namespace std::chrono_literals;

enum class ClusterState { kNew, kExisting };
enum class AutoCompactionMode { kPeriodic, kRevision };

// One side of transport security (client-facing or peer), as etcd's
// client-transport-security / peer-transport-security.
struct TlsConfig {
  std::string cert_file;
  std::string key_file;
  std::string trusted_ca_file;
  std::string crl_file;
  bool client_cert_auth = false;
  bool auto_tls = false;
  std::vector<std::string> allowed_cns;  // peer side only in etcd
  std::vector<std::string> allowed_hostnames;
  bool skip_client_san_verification = false;  // peer side only: no PeerSanCheck

  // True when TLS was asked for in any way (files or auto-TLS).
  bool Enabled() const { return auto_tls || !cert_file.empty() || !key_file.empty(); }
};

inline constexpr char kDefaultName[] = "default";
inline constexpr char kDefaultInitialCluster[] = "default=http://localhost:2380";

struct ServerConfig {
  // Member.
  std::string name = kDefaultName;
  std::string data_dir;  // empty = "${name}.etcd"; LoadConfig fills it in
  std::string wal_dir;   // empty = <data_dir>/member/wal (see EffectiveWalDir)
  uint64_t snapshot_count = 100000;
  // Log entries kept behind a log compaction for slow followers (older ones need a snapshot).
  uint64_t snapshot_catchup_entries = 5000;
  uint64_t max_wals = kDefaultMaxWals;  // 0 = unlimited
  uint64_t heartbeat_interval_ms = 100;
  uint64_t election_timeout_ms = 1000;
  bool initial_election_tick_advance = true;
  std::vector<Url> listen_peer_urls = {{"http", "localhost", "2380"}};
  std::vector<Url> listen_client_urls = {{"http", "localhost", "2379"}};
  int64_t quota_backend_bytes = 0;  // as given: see EffectiveQuotaBackendBytes (etcd_limits.h)
  uint64_t max_txn_ops = 128;
  uint64_t max_request_bytes = kDefaultMaxRequestBytes;
  std::chrono::nanoseconds grpc_keepalive_min_time = 5s;
  std::chrono::nanoseconds grpc_keepalive_interval = 2h;  // 0 disables
  std::chrono::nanoseconds grpc_keepalive_timeout = 20s;  // 0 disables

  // Clustering.
  std::vector<Url> initial_advertise_peer_urls = {{"http", "localhost", "2380"}};
  std::vector<Url> advertise_client_urls = {{"http", "localhost", "2379"}};
  std::string initial_cluster = kDefaultInitialCluster;  // as given
  InitialCluster initial_cluster_members = {{"default", {{"http", "localhost", "2380"}}}};
  ClusterState initial_cluster_state = ClusterState::kNew;
  std::string initial_cluster_token = "etcd-cluster";
  bool strict_reconfig_check = true;
  bool pre_vote = true;
  AutoCompactionMode auto_compaction_mode = AutoCompactionMode::kPeriodic;
  std::string auto_compaction_retention = "0";  // as given; "0" disables
  // Parsed retention: a period in periodic mode ("5" means 5h, as in etcd), a revision
  // count in revision mode. Only the one matching auto_compaction_mode is meaningful.
  std::chrono::nanoseconds auto_compaction_period = 0s;
  int64_t auto_compaction_revisions = 0;
  std::chrono::nanoseconds experimental_watch_progress_notify_interval = 10min;

  // Security.
  TlsConfig client_tls;
  TlsConfig peer_tls;
  uint64_t self_signed_cert_validity_years = 1;

  // --cipher-suites, Go names (cipher_suites.h); empty: OpenSSL's defaults.
  std::vector<std::string> cipher_suites;

  // Auth.
  std::string auth_token = "simple";
  uint64_t bcrypt_cost = 10;
  uint64_t auth_token_ttl_seconds = 300;

  // Profiling, monitoring and logging.
  bool enable_pprof = false;
  std::string metrics = "basic";  // "basic" or "extensive"
  std::vector<Url> listen_metrics_urls;
  std::string log_level = "info";

  // Where the WAL lives: wal_dir if set, else <data_dir>/member/wal.
  std::string EffectiveWalDir() const;
  // etcd's bootstrap checks of --initial-cluster against this member (see
  // VerifyBootstrapCluster). REQUIRES: called only when the member has no WAL yet; a
  // restarting member ignores --initial-cluster, as in etcd.
  Status VerifyBootstrap() const;
};

}  // namespace cairn::config
