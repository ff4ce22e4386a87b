#include "server/config/flag_registry.h"

#include <cctype>
#include <initializer_list>

#include "server/config/cipher_suites.h"
#include "server/config/duration.h"
#include "server/config/go_values.h"

namespace cairn::config {
namespace {

// ---- Value handlers. Set* parse and store into the field reached through the member
// pointer path (e.g. &ServerConfig::client_tls, &TlsConfig::cert_file); Check* only parse,
// for flags ServerConfig has no field for.

template <auto... Path>
auto& Field(ServerConfig& c) {
  return (c.*....*Path);
}

template <auto... Path>
Status SetString(ServerConfig& c, std::string_view v) {
  Field<Path...>(c) = std::string(v);
  return Status::Ok();
}

template <auto... Path>
Status SetBool(ServerConfig& c, std::string_view v) {
  auto b = ParseGoBool(v);
  if (!b.ok()) return b.status();
  Field<Path...>(c) = *b;
  return Status::Ok();
}

template <auto... Path>
Status SetUint(ServerConfig& c, std::string_view v) {
  auto n = ParseGoUint(v);
  if (!n.ok()) return n.status();
  Field<Path...>(c) = *n;
  return Status::Ok();
}

template <auto... Path>
Status SetInt(ServerConfig& c, std::string_view v) {
  auto n = ParseGoInt(v);
  if (!n.ok()) return n.status();
  Field<Path...>(c) = *n;
  return Status::Ok();
}

Result<std::chrono::nanoseconds> NonNegativeDuration(std::string_view v) {
  auto d = ParseGoDuration(v);
  if (d.ok() && d->count() < 0) return Status::InvalidArgument("must not be negative");
  return d;
}

template <auto... Path>
Status SetDuration(ServerConfig& c, std::string_view v) {
  auto d = NonNegativeDuration(v);
  if (!d.ok()) return d.status();
  Field<Path...>(c) = *d;
  return Status::Ok();
}

template <bool AllowEmpty, auto... Path>
Status SetUrls(ServerConfig& c, std::string_view v) {
  auto urls = ParseUrlList(v, AllowEmpty);
  if (!urls.ok()) return urls.status();
  Field<Path...>(c) = std::move(urls).value();
  return Status::Ok();
}

template <auto... Path>
Status SetStrings(ServerConfig& c, std::string_view v) {
  Field<Path...>(c) = SplitComma(v);
  return Status::Ok();
}

Status CheckAny(ServerConfig&, std::string_view) { return Status::Ok(); }
Status CheckBool(ServerConfig&, std::string_view v) { return ParseGoBool(v).status(); }
Status CheckUint(ServerConfig&, std::string_view v) { return ParseGoUint(v).status(); }
Status CheckInt(ServerConfig&, std::string_view v) { return ParseGoInt(v).status(); }
Status CheckDuration(ServerConfig&, std::string_view v) { return NonNegativeDuration(v).status(); }
Status CheckUrls(ServerConfig&, std::string_view v) { return ParseUrlList(v, true).status(); }

Status OneOf(std::string_view v, std::initializer_list<std::string_view> valid) {
  std::string list;
  for (std::string_view s : valid) {
    if (v == s) return Status::Ok();
    list += (list.empty() ? "" : ", ") + ("\"" + std::string(s) + "\"");
  }
  return Status::InvalidArgument("valid values are " + list);
}

Status SetCipherSuites(ServerConfig& c, std::string_view v) {
  std::vector<std::string> names = SplitComma(v);
  CAIRN_RETURN_IF_ERROR(OpenSslCipherList(names).status());
  c.cipher_suites = std::move(names);
  return Status::Ok();
}

Status SetClusterState(ServerConfig& c, std::string_view v) {
  CAIRN_RETURN_IF_ERROR(OneOf(v, {"new", "existing"}));
  c.initial_cluster_state = v == "new" ? ClusterState::kNew : ClusterState::kExisting;
  return Status::Ok();
}

Status SetInitialCluster(ServerConfig& c, std::string_view v) {
  auto members = ParseInitialCluster(v);
  if (!members.ok()) return members.status();
  c.initial_cluster = std::string(v);
  c.initial_cluster_members = std::move(members).value();
  return Status::Ok();
}

Status SetCompactionMode(ServerConfig& c, std::string_view v) {
  CAIRN_RETURN_IF_ERROR(OneOf(v, {"periodic", "revision"}));
  c.auto_compaction_mode =
      v == "periodic" ? AutoCompactionMode::kPeriodic : AutoCompactionMode::kRevision;
  return Status::Ok();
}

Status SetLogLevel(ServerConfig& c, std::string_view v) {
  CAIRN_RETURN_IF_ERROR(OneOf(v, {"debug", "info", "warn", "error", "dpanic", "panic", "fatal"}));
  c.log_level = std::string(v);
  return Status::Ok();
}

Status SetMetrics(ServerConfig& c, std::string_view v) {
  CAIRN_RETURN_IF_ERROR(OneOf(v, {"basic", "extensive"}));
  c.metrics = std::string(v);
  return Status::Ok();
}

Status CheckTlsMinVersion(ServerConfig&, std::string_view v) { return OneOf(v, {"TLS1.2", "TLS1.3"}); }
Status CheckTlsMaxVersion(ServerConfig&, std::string_view v) { return OneOf(v, {"", "TLS1.2", "TLS1.3"}); }

Status CheckFallback(ServerConfig&, std::string_view v) { return OneOf(v, {"exit", "proxy"}); }
Status CheckProxy(ServerConfig&, std::string_view v) { return OneOf(v, {"off", "readonly", "on"}); }
Status CheckLogger(ServerConfig&, std::string_view v) { return OneOf(v, {"zap", "capnslog"}); }
Status CheckLogFormat(ServerConfig&, std::string_view v) { return OneOf(v, {"json", "console"}); }
Status CheckFreelist(ServerConfig&, std::string_view v) { return OneOf(v, {"map", "array"}); }
Status CheckV2Deprecation(ServerConfig&, std::string_view v) {
  return OneOf(v, {"not-yet", "write-only", "write-only-drop-data", "gone"});
}

using C = ServerConfig;
using T = TlsConfig;
using K = FlagKind;
constexpr Disposition kImpl = Disposition::kImplemented;
constexpr Disposition kIgn = Disposition::kIgnored;
constexpr Disposition kRef = Disposition::kRefused;

constexpr char kMember[] = "Member";
constexpr char kCluster[] = "Clustering";
constexpr char kSecurity[] = "Security";
constexpr char kAuth[] = "Auth";
constexpr char kMonitor[] = "Profiling and Monitoring";
constexpr char kLogging[] = "Logging";
constexpr char kTracing[] = "Distributed tracing";
constexpr char kProxy[] = "v2 Proxy";
constexpr char kExperimental[] = "Experimental and tuning";
constexpr char kUnsafe[] = "Unsafe";
constexpr char kLegacySection[] = "Legacy (pre-v3, accepted and ignored as etcd does)";
constexpr char kProgram[] = "Program";

// Sources: etcd-io/etcd server/etcdmain/help.go and config.go, server/embed/config.go
// (AddFlags and the json tags of embed.Config / configYAML / securityConfig).
// One flag per line keeps the table reviewable, hence no automatic formatting.
// clang-format off
const FlagSpec kFlags[] = {
    // name, kind, disposition, default, yaml key, section, help, handler
    {"config-file", K::kString, kImpl, "", "-", kProgram, "Path to the server configuration file. If given, other command line flags and ETCD_* environment variables are ignored.", CheckAny},
    {"version", K::kBool, kImpl, "false", "-", kProgram, "Print the version and exit.", CheckBool},

    {"name", K::kString, kImpl, "default", "", kMember, "Human-readable name for this member.", SetString<&C::name>},
    {"data-dir", K::kString, kImpl, "${name}.etcd", "", kMember, "Path to the data directory.", SetString<&C::data_dir>},
    {"wal-dir", K::kString, kImpl, "", "", kMember, "Path to the dedicated wal directory.", SetString<&C::wal_dir>},
    {"snapshot-count", K::kUint, kImpl, "100000", "", kMember, "Number of committed transactions to trigger a snapshot to disk.", SetUint<&C::snapshot_count>},
    {"heartbeat-interval", K::kUint, kImpl, "100", "", kMember, "Time (in milliseconds) of a heartbeat interval.", SetUint<&C::heartbeat_interval_ms>},
    {"election-timeout", K::kUint, kImpl, "1000", "", kMember, "Time (in milliseconds) for an election to timeout.", SetUint<&C::election_timeout_ms>},
    {"initial-election-tick-advance", K::kBool, kImpl, "true", "", kMember, "Whether to fast-forward initial election ticks on boot for faster election.", SetBool<&C::initial_election_tick_advance>},
    {"listen-peer-urls", K::kUrlList, kImpl, "http://localhost:2380", "", kMember, "List of URLs to listen on for peer traffic.", SetUrls<false, &C::listen_peer_urls>},
    {"listen-client-urls", K::kUrlList, kImpl, "http://localhost:2379", "", kMember, "List of URLs to listen on for client traffic.", SetUrls<false, &C::listen_client_urls>},
    {"listen-client-http-urls", K::kUrlList, kRef, "", "", kMember, "List of URLs to listen on for http only client traffic.", CheckUrls},
    // Cairn writes no snapshot files: a member that needs a snapshot gets a copy of the
    // store made on demand and deleted once sent, so there is nothing to retain.
    {"max-snapshots", K::kUint, kIgn, "5", "", kMember, "Maximum number of snapshot files to retain (0 is unlimited).", CheckUint},
    {"max-wals", K::kUint, kImpl, "5", "", kMember, "Maximum number of wal files to retain (0 is unlimited).", SetUint<&C::max_wals>},
    {"quota-backend-bytes", K::kInt, kImpl, "0", "", kMember, "Raise alarms when backend size exceeds the given quota (0 defaults to 2 GiB).", SetInt<&C::quota_backend_bytes>},
    {"backend-bbolt-freelist-type", K::kString, kIgn, "map", "", kMember, "Freelist type of the bbolt backend (array or map).", CheckFreelist},
    {"backend-batch-interval", K::kDuration, kIgn, "", "", kMember, "Maximum time before committing the backend transaction.", CheckDuration},
    {"backend-batch-limit", K::kInt, kIgn, "0", "", kMember, "Maximum operations before committing the backend transaction.", CheckInt},
    {"max-txn-ops", K::kUint, kImpl, "128", "", kMember, "Maximum number of operations permitted in a transaction.", SetUint<&C::max_txn_ops>},
    {"max-request-bytes", K::kUint, kImpl, "1572864", "", kMember, "Maximum client request size in bytes the server will accept.", SetUint<&C::max_request_bytes>},
    {"max-concurrent-streams", K::kUint, kIgn, "4294967295", "", kMember, "Maximum concurrent streams that each client can open at a time.", CheckUint},
    {"enable-grpc-gateway", K::kBool, kIgn, "true", "", kMember, "Enable GRPC gateway.", CheckBool},
    {"grpc-keepalive-min-time", K::kDuration, kImpl, "5s", "", kMember, "Minimum duration interval that a client should wait before pinging server.", SetDuration<&C::grpc_keepalive_min_time>},
    {"grpc-keepalive-interval", K::kDuration, kImpl, "2h0m0s", "", kMember, "Frequency duration of server-to-client ping to check if a connection is alive (0 to disable).", SetDuration<&C::grpc_keepalive_interval>},
    {"grpc-keepalive-timeout", K::kDuration, kImpl, "20s", "", kMember, "Additional duration of wait before closing a non-responsive connection (0 to disable).", SetDuration<&C::grpc_keepalive_timeout>},
    {"socket-reuse-port", K::kBool, kIgn, "false", "socket-options.reuse-port", kMember, "Set SO_REUSEPORT on listeners.", CheckBool},
    {"socket-reuse-address", K::kBool, kIgn, "false", "socket-options.reuse-address", kMember, "Set SO_REUSEADDR on listeners.", CheckBool},
    {"raft-read-timeout", K::kDuration, kIgn, "5s", "-", kMember, "Read timeout set on each rafthttp connection.", CheckDuration},
    {"raft-write-timeout", K::kDuration, kIgn, "5s", "-", kMember, "Write timeout set on each rafthttp connection.", CheckDuration},
    {"snapshot-catchup-entries", K::kUint, kImpl, "5000", "", kMember, "Number of entries for a slow follower to catch up after compacting the raft storage entries.", SetUint<&C::snapshot_catchup_entries>},

    {"initial-advertise-peer-urls", K::kUrlList, kImpl, "http://localhost:2380", "", kCluster, "List of this member's peer URLs to advertise to the rest of the cluster.", SetUrls<false, &C::initial_advertise_peer_urls>},
    {"initial-cluster", K::kString, kImpl, "default=http://localhost:2380", "", kCluster, "Initial cluster configuration for bootstrapping.", SetInitialCluster},
    {"initial-cluster-state", K::kString, kImpl, "new", "", kCluster, "Initial cluster state ('new' or 'existing'). Ignored on restarts.", SetClusterState},
    {"initial-cluster-token", K::kString, kImpl, "etcd-cluster", "", kCluster, "Initial cluster token for the etcd cluster during bootstrap.", SetString<&C::initial_cluster_token>},
    {"advertise-client-urls", K::kUrlList, kImpl, "http://localhost:2379", "", kCluster, "List of this member's client URLs to advertise to the public.", SetUrls<false, &C::advertise_client_urls>},
    {"discovery", K::kString, kRef, "", "", kCluster, "Discovery URL used to bootstrap the cluster.", CheckAny},
    {"discovery-fallback", K::kString, kIgn, "proxy", "", kCluster, "Expected behavior ('exit' or 'proxy') when discovery services fails.", CheckFallback},
    {"discovery-proxy", K::kString, kIgn, "", "", kCluster, "HTTP proxy to use for traffic to discovery service.", CheckAny},
    {"discovery-srv", K::kString, kRef, "", "", kCluster, "DNS srv domain used to bootstrap the cluster.", CheckAny},
    {"discovery-srv-name", K::kString, kIgn, "", "", kCluster, "Suffix to the dns srv name queried when bootstrapping.", CheckAny},
    {"discovery-endpoints", K::kString, kRef, "", "-", kCluster, "V3 discovery: list of gRPC endpoints of the discovery service.", CheckAny},
    {"discovery-token", K::kString, kRef, "", "-", kCluster, "V3 discovery: discovery token.", CheckAny},
    {"discovery-dial-timeout", K::kDuration, kIgn, "2s", "-", kCluster, "V3 discovery: dial timeout.", CheckDuration},
    {"discovery-request-timeout", K::kDuration, kIgn, "5s", "-", kCluster, "V3 discovery: request timeout.", CheckDuration},
    {"discovery-keepalive-time", K::kDuration, kIgn, "2s", "-", kCluster, "V3 discovery: keepalive time.", CheckDuration},
    {"discovery-keepalive-timeout", K::kDuration, kIgn, "6s", "-", kCluster, "V3 discovery: keepalive timeout.", CheckDuration},
    {"discovery-insecure-transport", K::kBool, kIgn, "true", "-", kCluster, "V3 discovery: disable transport security.", CheckBool},
    {"discovery-insecure-skip-tls-verify", K::kBool, kIgn, "false", "-", kCluster, "V3 discovery: skip server certificate verification.", CheckBool},
    {"discovery-cert", K::kString, kIgn, "", "-", kCluster, "V3 discovery: client TLS certificate file.", CheckAny},
    {"discovery-key", K::kString, kIgn, "", "-", kCluster, "V3 discovery: client TLS key file.", CheckAny},
    {"discovery-cacert", K::kString, kIgn, "", "-", kCluster, "V3 discovery: CA bundle.", CheckAny},
    {"discovery-user", K::kString, kIgn, "", "-", kCluster, "V3 discovery: username[:password].", CheckAny},
    {"discovery-password", K::kString, kIgn, "", "-", kCluster, "V3 discovery: password.", CheckAny},
    {"strict-reconfig-check", K::kBool, kIgn, "true", "", kCluster, "Reject reconfiguration requests that would cause quorum loss.", SetBool<&C::strict_reconfig_check>},
    {"pre-vote", K::kBool, kImpl, "true", "", kCluster, "Enable to run an additional Raft election phase.", SetBool<&C::pre_vote>},
    {"auto-compaction-retention", K::kString, kImpl, "0", "", kCluster, "Auto compaction retention length. 0 means disable auto compaction.", SetString<&C::auto_compaction_retention>},
    {"auto-compaction-mode", K::kString, kImpl, "periodic", "", kCluster, "Interpret 'auto-compaction-retention' one of: periodic|revision.", SetCompactionMode},
    {"enable-v2", K::kBool, kRef, "false", "", kCluster, "Accept etcd V2 client requests.", CheckBool},
    {"v2-deprecation", K::kString, kIgn, "not-yet", "", kCluster, "Phase of v2store deprecation (Cairn has no v2 store).", CheckV2Deprecation},

    {"cert-file", K::kString, kImpl, "", "client-transport-security.cert-file", kSecurity, "Path to the client server TLS cert file.", SetString<&C::client_tls, &T::cert_file>},
    {"key-file", K::kString, kImpl, "", "client-transport-security.key-file", kSecurity, "Path to the client server TLS key file.", SetString<&C::client_tls, &T::key_file>},
    {"client-cert-auth", K::kBool, kImpl, "false", "client-transport-security.client-cert-auth", kSecurity, "Enable client cert authentication.", SetBool<&C::client_tls, &T::client_cert_auth>},
    {"client-cert-file", K::kString, kRef, "", "client-transport-security.client-cert-file", kSecurity, "Path to an explicit peer client TLS cert file.", CheckAny},
    {"client-key-file", K::kString, kRef, "", "client-transport-security.client-key-file", kSecurity, "Path to an explicit peer client TLS key file.", CheckAny},
    {"client-crl-file", K::kString, kImpl, "", "client-transport-security.crl-file", kSecurity, "Path to the client certificate revocation list file.", SetString<&C::client_tls, &T::crl_file>},
    {"client-cert-allowed-hostname", K::kStringList, kImpl, "", "client-transport-security.allowed-hostname", kSecurity, "Comma-separated list of SAN hostnames for client cert authentication.", SetStrings<&C::client_tls, &T::allowed_hostnames>},
    {"trusted-ca-file", K::kString, kImpl, "", "client-transport-security.trusted-ca-file", kSecurity, "Path to the client server TLS trusted CA cert file.", SetString<&C::client_tls, &T::trusted_ca_file>},
    {"auto-tls", K::kBool, kImpl, "false", "client-transport-security.auto-tls", kSecurity, "Client TLS using generated certificates.", SetBool<&C::client_tls, &T::auto_tls>},
    {"peer-cert-file", K::kString, kImpl, "", "peer-transport-security.cert-file", kSecurity, "Path to the peer server TLS cert file.", SetString<&C::peer_tls, &T::cert_file>},
    {"peer-key-file", K::kString, kImpl, "", "peer-transport-security.key-file", kSecurity, "Path to the peer server TLS key file.", SetString<&C::peer_tls, &T::key_file>},
    {"peer-client-cert-auth", K::kBool, kImpl, "false", "peer-transport-security.client-cert-auth", kSecurity, "Enable peer client cert authentication.", SetBool<&C::peer_tls, &T::client_cert_auth>},
    {"peer-trusted-ca-file", K::kString, kImpl, "", "peer-transport-security.trusted-ca-file", kSecurity, "Path to the peer server TLS trusted CA file.", SetString<&C::peer_tls, &T::trusted_ca_file>},
    {"peer-cert-allowed-cn", K::kStringList, kImpl, "", "peer-transport-security.allowed-cn", kSecurity, "Comma-separated list of allowed CNs for inter-peer TLS authentication.", SetStrings<&C::peer_tls, &T::allowed_cns>},
    {"peer-cert-allowed-hostname", K::kStringList, kImpl, "", "peer-transport-security.allowed-hostname", kSecurity, "Comma-separated list of allowed SAN hostnames for inter-peer TLS authentication.", SetStrings<&C::peer_tls, &T::allowed_hostnames>},
    {"peer-auto-tls", K::kBool, kImpl, "false", "peer-transport-security.auto-tls", kSecurity, "Peer TLS using self-generated certificates.", SetBool<&C::peer_tls, &T::auto_tls>},
    {"peer-client-cert-file", K::kString, kRef, "", "peer-transport-security.client-cert-file", kSecurity, "Path to an explicit peer client TLS cert file.", CheckAny},
    {"peer-client-key-file", K::kString, kRef, "", "peer-transport-security.client-key-file", kSecurity, "Path to an explicit peer client TLS key file.", CheckAny},
    {"peer-crl-file", K::kString, kImpl, "", "peer-transport-security.crl-file", kSecurity, "Path to the peer certificate revocation list file.", SetString<&C::peer_tls, &T::crl_file>},
    // Cairn never checks a peer's client certificate SANs against the peer's address
    // (README, TLS), so skipping that check is what it always does: nothing to store.
    {"experimental-peer-skip-client-san-verification", K::kBool, kImpl, "false", "peer-transport-security.skip-client-san-verification", kSecurity, "Skip verification of SAN field in client certificate for peer connections.", SetBool<&C::peer_tls, &T::skip_client_san_verification>},
    {"peer-skip-client-san-verification", K::kBool, kImpl, "false", "-", kSecurity, "Same as --experimental-peer-skip-client-san-verification (etcd 3.6 name).", SetBool<&C::peer_tls, &T::skip_client_san_verification>},
    {"self-signed-cert-validity", K::kUint, kImpl, "1", "", kSecurity, "Validity period (years) of auto-generated certificates.", SetUint<&C::self_signed_cert_validity_years>},
    {"cipher-suites", K::kStringList, kImpl, "", "cipher-suites", kSecurity, "Comma-separated list of supported TLS cipher suites between client/server and peers.", SetCipherSuites},
    {"tls-min-version", K::kString, kRef, "TLS1.2", "", kSecurity, "Minimum TLS version supported. Possible values: TLS1.2, TLS1.3.", CheckTlsMinVersion},
    {"tls-max-version", K::kString, kRef, "", "", kSecurity, "Maximum TLS version supported. Possible values: TLS1.2, TLS1.3.", CheckTlsMaxVersion},
    {"cors", K::kString, kIgn, "*", "", kSecurity, "Comma-separated whitelist of origins for CORS.", CheckAny},
    {"host-whitelist", K::kString, kIgn, "*", "", kSecurity, "Acceptable hostnames from HTTP client requests, if server is not secure.", CheckAny},

    {"auth-token", K::kString, kImpl, "simple", "", kAuth, "Specify a v3 authentication token type and its options ('simple' or 'jwt').", SetString<&C::auth_token>},
    {"bcrypt-cost", K::kUint, kImpl, "10", "", kAuth, "Cost of the bcrypt algorithm for hashing auth passwords.", SetUint<&C::bcrypt_cost>},
    {"auth-token-ttl", K::kUint, kImpl, "300", "", kAuth, "Time (in seconds) of the auth-token-ttl.", SetUint<&C::auth_token_ttl_seconds>},

    {"enable-pprof", K::kBool, kIgn, "false", "", kMonitor, "Enable runtime profiling data via HTTP server.", SetBool<&C::enable_pprof>},
    {"metrics", K::kString, kIgn, "basic", "", kMonitor, "Set level of detail for exported metrics ('basic' or 'extensive').", SetMetrics},
    {"listen-metrics-urls", K::kUrlList, kImpl, "", "", kMonitor, "List of URLs to listen on for the /metrics and /health endpoints.", SetUrls<true, &C::listen_metrics_urls>},

    {"logger", K::kString, kIgn, "zap", "", kLogging, "Logger implementation (etcd: 'zap').", CheckLogger},
    {"log-outputs", K::kStringList, kIgn, "default", "", kLogging, "Log output targets ('stdout', 'stderr', 'default' or file paths).", CheckAny},
    {"log-level", K::kString, kImpl, "info", "", kLogging, "Log level: debug, info, warn, error, panic, or fatal.", SetLogLevel},
    {"log-format", K::kString, kIgn, "json", "", kLogging, "Log format: json or console.", CheckLogFormat},
    {"enable-log-rotation", K::kBool, kIgn, "false", "", kLogging, "Enable log rotation of a single log-outputs file target.", CheckBool},
    {"log-rotation-config-json", K::kString, kIgn, R"({"maxsize": 100, "maxage": 0, "maxbackups": 0, "localtime": false, "compress": false})", "", kLogging, "Log rotation configuration as JSON.", CheckAny},
    {"disable-log-sampling", K::kBool, kIgn, "false", "", kLogging, "Disable log sampling.", CheckBool},

    {"experimental-enable-distributed-tracing", K::kBool, kIgn, "false", "", kTracing, "Enable experimental distributed tracing.", CheckBool},
    {"experimental-distributed-tracing-address", K::kString, kIgn, "localhost:4317", "", kTracing, "Distributed tracing collector address.", CheckAny},
    {"experimental-distributed-tracing-service-name", K::kString, kIgn, "etcd", "", kTracing, "Distributed tracing service name.", CheckAny},
    {"experimental-distributed-tracing-instance-id", K::kString, kIgn, "", "", kTracing, "Distributed tracing instance ID.", CheckAny},
    {"experimental-distributed-tracing-sampling-rate", K::kInt, kIgn, "0", "", kTracing, "Samples per million spans.", CheckInt},
    {"enable-distributed-tracing", K::kBool, kIgn, "false", "", kTracing, "etcd 3.6 name of --experimental-enable-distributed-tracing.", CheckBool},
    {"distributed-tracing-address", K::kString, kIgn, "localhost:4317", "", kTracing, "etcd 3.6 name of --experimental-distributed-tracing-address.", CheckAny},
    {"distributed-tracing-service-name", K::kString, kIgn, "etcd", "", kTracing, "etcd 3.6 name of --experimental-distributed-tracing-service-name.", CheckAny},
    {"distributed-tracing-instance-id", K::kString, kIgn, "", "", kTracing, "etcd 3.6 name of --experimental-distributed-tracing-instance-id.", CheckAny},
    {"distributed-tracing-sampling-rate", K::kInt, kIgn, "0", "", kTracing, "etcd 3.6 name of --experimental-distributed-tracing-sampling-rate.", CheckInt},

    {"proxy", K::kString, kRef, "off", "", kProxy, "Proxy mode setting ('off', 'readonly' or 'on').", CheckProxy},
    {"proxy-failure-wait", K::kUint, kIgn, "5000", "", kProxy, "Time (in milliseconds) an endpoint will be held in a failed state.", CheckUint},
    {"proxy-refresh-interval", K::kUint, kIgn, "30000", "", kProxy, "Time (in milliseconds) of the endpoints refresh interval.", CheckUint},
    {"proxy-dial-timeout", K::kUint, kIgn, "1000", "", kProxy, "Time (in milliseconds) for a dial to timeout.", CheckUint},
    {"proxy-write-timeout", K::kUint, kIgn, "5000", "", kProxy, "Time (in milliseconds) for a write to timeout.", CheckUint},
    {"proxy-read-timeout", K::kUint, kIgn, "0", "", kProxy, "Time (in milliseconds) for a read to timeout.", CheckUint},

    {"experimental-initial-corrupt-check", K::kBool, kIgn, "false", "", kExperimental, "Check data corruption before serving any client/peer traffic.", CheckBool},
    {"experimental-corrupt-check-time", K::kDuration, kIgn, "0s", "", kExperimental, "Duration of time between cluster corruption check passes.", CheckDuration},
    {"experimental-compact-hash-check-enabled", K::kBool, kIgn, "false", "", kExperimental, "Leader periodically checks followers' compaction hashes.", CheckBool},
    {"experimental-compact-hash-check-time", K::kDuration, kIgn, "1m0s", "", kExperimental, "Duration between compaction hash checks.", CheckDuration},
    {"experimental-enable-v2v3", K::kString, kRef, "", "", kExperimental, "Serve v2 requests through the v3 backend under a given prefix.", CheckAny},
    {"experimental-enable-lease-checkpoint", K::kBool, kRef, "false", "", kExperimental, "Persist lease remaining TTL on leader change (changes lease semantics).", CheckBool},
    {"experimental-enable-lease-checkpoint-persist", K::kBool, kRef, "false", "", kExperimental, "Persist lease checkpoints (changes lease semantics).", CheckBool},
    {"experimental-compaction-batch-limit", K::kInt, kIgn, "1000", "", kExperimental, "Maximum revisions deleted in each compaction batch.", CheckInt},
    {"experimental-compaction-sleep-interval", K::kDuration, kIgn, "10ms", "", kExperimental, "Sleep interval between each compaction batch.", CheckDuration},
    {"experimental-watch-progress-notify-interval", K::kDuration, kImpl, "10m0s", "", kExperimental, "Duration of periodical watch progress notification.", SetDuration<&C::experimental_watch_progress_notify_interval>},
    {"watch-progress-notify-interval", K::kDuration, kImpl, "10m0s", "", kExperimental, "etcd 3.6 name of --experimental-watch-progress-notify-interval.", SetDuration<&C::experimental_watch_progress_notify_interval>},
    {"experimental-downgrade-check-time", K::kDuration, kIgn, "5s", "", kExperimental, "Duration of time between two downgrade status checks.", CheckDuration},
    {"experimental-memory-mlock", K::kBool, kIgn, "false", "", kExperimental, "Enforce etcd pages to stay in RAM.", CheckBool},
    {"experimental-warning-apply-duration", K::kDuration, kIgn, "100ms", "", kExperimental, "Warn if applying a request takes longer than this.", CheckDuration},
    {"experimental-warning-unary-request-duration", K::kDuration, kIgn, "300ms", "", kExperimental, "Warn if a unary request takes longer than this.", CheckDuration},
    {"experimental-txn-mode-write-with-shared-buffer", K::kBool, kIgn, "true", "", kExperimental, "Write transactions use a shared buffer for read-only checks.", CheckBool},
    {"experimental-bootstrap-defrag-threshold-megabytes", K::kUint, kIgn, "0", "", kExperimental, "Defragment on bootstrap if it would free at least this much.", CheckUint},
    {"experimental-stop-grpc-service-on-defrag", K::kBool, kIgn, "false", "", kExperimental, "Stop serving gRPC during defragmentation.", CheckBool},
    {"experimental-max-learners", K::kInt, kIgn, "1", "", kExperimental, "Maximum number of learners in the cluster membership.", CheckInt},
    {"experimental-snapshot-catchup-entries", K::kUint, kImpl, "5000", "", kExperimental, "Entries kept for slow followers to catch up.", SetUint<&C::snapshot_catchup_entries>},
    {"corrupt-check-time", K::kDuration, kIgn, "0s", "", kExperimental, "etcd 3.6 name of --experimental-corrupt-check-time.", CheckDuration},
    {"compact-hash-check-time", K::kDuration, kIgn, "1m0s", "", kExperimental, "etcd 3.6 name of --experimental-compact-hash-check-time.", CheckDuration},
    {"compaction-batch-limit", K::kInt, kIgn, "0", "", kExperimental, "etcd 3.6 name of --experimental-compaction-batch-limit.", CheckInt},
    {"compaction-sleep-interval", K::kDuration, kIgn, "0s", "", kExperimental, "etcd 3.6 name of --experimental-compaction-sleep-interval.", CheckDuration},
    {"downgrade-check-time", K::kDuration, kIgn, "5s", "", kExperimental, "etcd 3.6 name of --experimental-downgrade-check-time.", CheckDuration},
    {"memory-mlock", K::kBool, kIgn, "false", "", kExperimental, "etcd 3.6 name of --experimental-memory-mlock.", CheckBool},
    {"warning-apply-duration", K::kDuration, kIgn, "100ms", "", kExperimental, "etcd 3.6 name of --experimental-warning-apply-duration.", CheckDuration},
    {"warning-unary-request-duration", K::kDuration, kIgn, "300ms", "", kExperimental, "etcd 3.6 name of --experimental-warning-unary-request-duration.", CheckDuration},
    {"bootstrap-defrag-threshold-megabytes", K::kUint, kIgn, "0", "", kExperimental, "etcd 3.6 name of --experimental-bootstrap-defrag-threshold-megabytes.", CheckUint},
    {"max-learners", K::kInt, kIgn, "1", "", kExperimental, "etcd 3.6 name of --experimental-max-learners.", CheckInt},
    {"feature-gates", K::kString, kRef, "", "", kExperimental, "etcd 3.6 feature gates (may switch semantics such as lease checkpoints).", CheckAny},

    {"force-new-cluster", K::kBool, kRef, "false", "", kUnsafe, "Force to create a new one-member cluster.", CheckBool},
    {"unsafe-no-fsync", K::kBool, kRef, "false", "", kUnsafe, "Disables fsync, unsafe, will cause data loss.", CheckBool},

    {"cluster-active-size", K::kLegacy, kIgn, "", "-", kLegacySection, "", CheckAny},
    {"cluster-remove-delay", K::kLegacy, kIgn, "", "-", kLegacySection, "", CheckAny},
    {"cluster-sync-interval", K::kLegacy, kIgn, "", "-", kLegacySection, "", CheckAny},
    {"config", K::kLegacy, kIgn, "", "-", kLegacySection, "", CheckAny},
    {"force", K::kLegacy, kIgn, "", "-", kLegacySection, "", CheckAny},
    {"max-result-buffer", K::kLegacy, kIgn, "", "-", kLegacySection, "", CheckAny},
    {"max-retry-attempts", K::kLegacy, kIgn, "", "-", kLegacySection, "", CheckAny},
    {"peer-heartbeat-interval", K::kLegacy, kIgn, "", "-", kLegacySection, "", CheckAny},
    {"peer-election-timeout", K::kLegacy, kIgn, "", "-", kLegacySection, "", CheckAny},
    {"retry-interval", K::kLegacy, kIgn, "", "-", kLegacySection, "", CheckAny},
    {"snapshot", K::kLegacy, kIgn, "", "-", kLegacySection, "", CheckAny},
    {"v", K::kLegacy, kIgn, "", "-", kLegacySection, "", CheckAny},
    {"vv", K::kLegacy, kIgn, "", "-", kLegacySection, "", CheckAny},
};
// clang-format on

// Whether `value` means the same as the flag's etcd default (so a refused flag given at
// its default is harmless: "--enable-v2=false", "--proxy off", "--auth-token simple").
bool IsDefaultValue(const FlagSpec& spec, std::string_view value) {
  switch (spec.kind) {
    case FlagKind::kBool: {
      auto a = ParseGoBool(value), b = ParseGoBool(spec.default_value);
      return a.ok() && b.ok() && *a == *b;
    }
    case FlagKind::kUint: {
      auto a = ParseGoUint(value), b = ParseGoUint(spec.default_value);
      return a.ok() && b.ok() && *a == *b;
    }
    case FlagKind::kDuration: {
      auto a = ParseGoDuration(value), b = ParseGoDuration(spec.default_value);
      return a.ok() && b.ok() && *a == *b;
    }
    default:
      return value == spec.default_value;
  }
}

}  // namespace

std::span<const FlagSpec> AllFlags() { return kFlags; }

const FlagSpec* FindFlag(std::string_view name) {
  for (const FlagSpec& f : kFlags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string YamlKeyOf(const FlagSpec& spec) {
  if (spec.yaml_key == "-") return "";
  return std::string(spec.yaml_key.empty() ? spec.name : spec.yaml_key);
}

const FlagSpec* FindFlagByYamlKey(std::string_view key) {
  for (const FlagSpec& f : kFlags) {
    if (!key.empty() && YamlKeyOf(f) == key) return &f;
  }
  return nullptr;
}

std::string FlagToEnv(std::string_view name) {
  std::string env = "ETCD_";
  for (char c : name) {
    env += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return env;
}

Status ApplySetting(const FlagSpec& spec, std::string_view value, const std::string& origin,
                    ServerConfig& config, std::vector<std::string>& warnings) {
  // Type-check before classifying, as etcd's Go flag types reject bad values for every
  // flag: a typo in a refused or ignored flag still deserves the precise message.
  ServerConfig scratch = config;
  Status parsed = spec.apply(scratch, value);
  if (!parsed.ok()) {
    return Status::InvalidArgument("cairn: invalid value \"" + std::string(value) + "\" for " +
                                   origin + ": " + parsed.message());
  }
  switch (spec.disposition) {
    case Disposition::kImplemented:
      break;
    case Disposition::kIgnored:
      warnings.push_back("cairn: " + origin +
                         " is accepted but ignored (not implemented by Cairn yet)");
      break;
    case Disposition::kRefused:
      if (!IsDefaultValue(spec, value)) {
        return Status::Unimplemented("cairn: " + origin +
                                     " is not supported yet (ignoring it would change behaviour)");
      }
      break;
  }
  config = std::move(scratch);
  return Status::Ok();
}

}  // namespace cairn::config
