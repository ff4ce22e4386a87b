// The derivations and cross-field checks etcd applies after reading flags or a config
// file, before the server starts (embed.Config.Validate, etcdmain's defaults).
//
// Pure function, thread-safe. After FinalizeConfig succeeds: data_dir is non-empty,
// initial_cluster_members is the parse of initial_cluster, the auto-compaction retention
// is parsed, and every URL/timing/TLS-version rule below holds.
#pragma once

#include <string>
#include <vector>

#include "server/common/status.h"
#include "server/config/server_config.h"

namespace cairn::config {

struct ExplicitlySet {
  // Whether --listen-client-urls / --advertise-client-urls came from a flag or ETCD_*
  // variable. etcd's rule "advertise is required when listen is set explicitly" only
  // exists on that path; with a config file the advertise default stays.
  bool from_flags = false;
  bool listen_client_urls = false;
  bool advertise_client_urls = false;
};

// Derives defaults (data_dir, initial_cluster from a non-default name) and validates.
// Derivations that etcd announces go to `warnings`.
Status FinalizeConfig(ServerConfig& config, const ExplicitlySet& set,
                      std::vector<std::string>& warnings);

}  // namespace cairn::config
