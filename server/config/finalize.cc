#include "server/config/finalize.h"

#include "server/config/duration.h"
#include "server/config/go_values.h"

namespace cairn::config {
namespace {

// etcd's maxElectionMs.
constexpr uint64_t kMaxElectionMs = 50000;

Status Invalid(const std::string& m) { return Status::InvalidArgument("cairn: " + m); }

Status ParseRetention(ServerConfig& c) {
  const std::string& r = c.auto_compaction_retention.empty() ? "0" : c.auto_compaction_retention;
  auto whole = ParseGoInt(r);
  const bool is_count =
      whole.ok() && *whole >= 0 && r.find_first_not_of("0123456789") == std::string::npos;
  if (c.auto_compaction_mode == AutoCompactionMode::kRevision) {
    if (!is_count) {
      return Invalid(
          "error parsing CompactionRetention: revision mode needs a revision count, got \"" + r +
          "\"");
    }
    c.auto_compaction_revisions = *whole;
    return Status::Ok();
  }
  // Periodic: a bare number means hours (etcd), otherwise a Go duration.
  if (is_count) {
    if (*whole >
        std::chrono::duration_cast<std::chrono::hours>(std::chrono::nanoseconds::max()).count()) {
      return Invalid("error parsing CompactionRetention: \"" + r + "\" hours is too long");
    }
    c.auto_compaction_period = std::chrono::hours(*whole);
    return Status::Ok();
  }
  auto d = ParseGoDuration(r);
  if (!d.ok()) return Invalid("error parsing CompactionRetention: " + d.status().message());
  if (d->count() < 0) return Invalid("error parsing CompactionRetention: must not be negative");
  c.auto_compaction_period = *d;
  return Status::Ok();
}

Status CheckTls(const ServerConfig& c) {
  for (const Url& u : c.listen_client_urls) {
    if ((u.scheme == "https" || u.scheme == "unixs") && !c.client_tls.Enabled()) {
      return Invalid("TLS key/cert (--cert-file, --key-file) must be provided for client url " +
                     u.String() + " with HTTPS scheme");
    }
  }
  for (const Url& u : c.listen_peer_urls) {
    if ((u.scheme == "https" || u.scheme == "unixs") && !c.peer_tls.Enabled()) {
      return Invalid(
          "TLS key/cert (--peer-cert-file, --peer-key-file) must be provided for peer url " +
          u.String() + " with HTTPS scheme");
    }
  }
  return Status::Ok();
}

}  // namespace

Status FinalizeConfig(ServerConfig& c, const ExplicitlySet& set,
                      std::vector<std::string>& warnings) {
  if (c.data_dir.empty()) {
    c.data_dir = c.name + ".etcd";
    warnings.push_back("cairn: no --data-dir given; using default data-dir \"" + c.data_dir + "\"");
  }
  // etcd (UpdateDefaultClusterFromName): "--name foo" alone bootstraps a one-member
  // cluster "foo=<initial-advertise-peer-urls>" instead of failing on "default=...".
  if (c.name != kDefaultName && c.initial_cluster == kDefaultInitialCluster) {
    std::string derived;
    for (const Url& u : c.initial_advertise_peer_urls) {
      derived += (derived.empty() ? "" : ",") + c.name + "=" + u.String();
    }
    c.initial_cluster = derived;
  }
  auto members = ParseInitialCluster(c.initial_cluster);
  if (!members.ok()) return Invalid("invalid --initial-cluster: " + members.status().message());
  c.initial_cluster_members = std::move(members).value();

  if (set.from_flags && set.listen_client_urls && !set.advertise_client_urls) {
    return Invalid(
        "--advertise-client-urls is required when --listen-client-urls is set explicitly");
  }
  if (Status s = CheckBindUrls(c.listen_peer_urls); !s.ok())
    return Invalid("--listen-peer-urls: " + s.message());
  if (Status s = CheckBindUrls(c.listen_client_urls); !s.ok())
    return Invalid("--listen-client-urls: " + s.message());
  if (Status s = CheckBindUrls(c.listen_metrics_urls); !s.ok())
    return Invalid("--listen-metrics-urls: " + s.message());
  if (Status s = CheckHostUrls(c.initial_advertise_peer_urls); !s.ok()) {
    return Invalid("--initial-advertise-peer-urls \"" +
                   UrlListString(c.initial_advertise_peer_urls) + "\" must be \"host:port\" (" +
                   s.message() + ")");
  }
  if (Status s = CheckHostUrls(c.advertise_client_urls); !s.ok()) {
    return Invalid("--advertise-client-urls \"" + UrlListString(c.advertise_client_urls) +
                   "\" must be in the format \"host:port\", \"unix:/path/to/socket\" or "
                   "\"unixs:/path/to/socket\" (" +
                   s.message() + ")");
  }

  const std::string tick = std::to_string(c.heartbeat_interval_ms);
  const std::string election = std::to_string(c.election_timeout_ms);
  if (c.heartbeat_interval_ms == 0)
    return Invalid("--heartbeat-interval must be >0 (set to " + tick + "ms)");
  if (c.election_timeout_ms == 0)
    return Invalid("--election-timeout must be >0 (set to " + election + "ms)");
  if (c.heartbeat_interval_ms > c.election_timeout_ms / 5) {
    return Invalid("--election-timeout[" + election +
                   "ms] should be at least as 5 times as --heartbeat-interval[" + tick + "ms]");
  }
  if (c.election_timeout_ms > kMaxElectionMs) {
    return Invalid("--election-timeout[" + election +
                   "ms] is too long, and should be set less than " +
                   std::to_string(kMaxElectionMs) + "ms");
  }
  CAIRN_RETURN_IF_ERROR(ParseRetention(c));
  // bcrypt's own bounds (etcd refuses the same).
  if (c.bcrypt_cost < 4 || c.bcrypt_cost > 31) {
    return Invalid("--bcrypt-cost " + std::to_string(c.bcrypt_cost) + " is outside bcrypt's range 4..31");
  }
  return CheckTls(c);
}

}  // namespace cairn::config
