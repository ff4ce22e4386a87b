#include "server/config/server_config.h"

namespace cairn::config {

std::string ServerConfig::EffectiveWalDir() const {
  return wal_dir.empty() ? data_dir + "/member/wal" : wal_dir;
}

int64_t ServerConfig::EffectiveQuotaBackendBytes() const {
  return quota_backend_bytes == 0 ? kDefaultQuotaBackendBytes : quota_backend_bytes;
}

}  // namespace cairn::config
