#include "server/cmd/member_options.h"

namespace cairn::cmd {

transport::TlsFiles ToTlsFiles(const config::TlsConfig& t, const std::string& side) {
  return {.cert_file = t.cert_file,
          .key_file = t.key_file,
          .trusted_ca_file = t.trusted_ca_file,
          .client_cert_auth = t.client_cert_auth,
          .policy = {.side = side,
                     .crl_file = t.crl_file,
                     .allowed_cns = t.allowed_cns,
                     .allowed_hostnames = t.allowed_hostnames},
          .skip_client_san_verification = t.skip_client_san_verification};
}

etcdserver::ServerOptions ToServerOptions(const config::ServerConfig& c) {
  etcdserver::ServerOptions o;
  o.name = c.name;
  o.data_dir.root = c.data_dir;
  for (const auto& url : c.advertise_client_urls) o.advertise_client_urls.push_back(url.String());
  o.data_dir.wal_override = c.wal_dir;
  o.quota_backend_bytes = c.quota_backend_bytes;
  for (const auto& [name, urls] : c.initial_cluster_members) {
    for (const auto& url : urls) o.initial_cluster[name].push_back(url.String());
  }
  o.initial_cluster_token = c.initial_cluster_token;
  o.join_existing_cluster = c.initial_cluster_state == config::ClusterState::kExisting;
  o.heartbeat_interval = std::chrono::milliseconds(c.heartbeat_interval_ms);
  o.election_timeout = std::chrono::milliseconds(c.election_timeout_ms);
  o.max_request_bytes = c.max_request_bytes;
  o.snapshot_count = c.snapshot_count;
  o.snapshot_catchup_entries = c.snapshot_catchup_entries;
  o.wal.max_files = static_cast<size_t>(c.max_wals);
  o.watch_progress_notify_interval =
      std::chrono::duration_cast<std::chrono::milliseconds>(c.experimental_watch_progress_notify_interval);
  o.max_txn_ops = static_cast<int>(c.max_txn_ops);
  o.auth_token = c.auth_token;
  o.auth_token_ttl = std::chrono::seconds(c.auth_token_ttl_seconds);
  o.bcrypt_cost = static_cast<int>(c.bcrypt_cost);
  o.auto_compaction_mode = c.auto_compaction_mode == config::AutoCompactionMode::kRevision
                               ? etcdserver::AutoCompactor::Mode::kRevision
                               : etcdserver::AutoCompactor::Mode::kPeriodic;
  o.auto_compaction_period = c.auto_compaction_period;
  o.auto_compaction_revisions = c.auto_compaction_revisions;
  o.grpc_keepalive_min_time = std::chrono::duration_cast<std::chrono::milliseconds>(c.grpc_keepalive_min_time);
  o.grpc_keepalive_interval = std::chrono::duration_cast<std::chrono::milliseconds>(c.grpc_keepalive_interval);
  o.grpc_keepalive_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(c.grpc_keepalive_timeout);
  o.pre_vote = c.pre_vote;
  o.initial_election_tick_advance = c.initial_election_tick_advance;
  o.client_tls = ToTlsFiles(c.client_tls, "client");
  o.peer_tls = ToTlsFiles(c.peer_tls, "peer");
  return o;
}

}  // namespace cairn::cmd
