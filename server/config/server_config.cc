#include "server/config/server_config.h"

namespace cairn::config {

std::string ServerConfig::EffectiveWalDir() const {
  return wal_dir.empty() ? data_dir + "/member/wal" : wal_dir;
}

Status ServerConfig::VerifyBootstrap() const {
  return VerifyBootstrapCluster(initial_cluster_members, name, initial_advertise_peer_urls,
                                initial_cluster_state == ClusterState::kNew);
}

}  // namespace cairn::config
