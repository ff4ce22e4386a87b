// etcd's YAML configuration file (--config-file) applied onto a ServerConfig.
//
// Keys are etcd's config-file keys (embed.Config json tags): mostly the flag names
// ("max-txn-ops"), TLS settings inside client-transport-security / peer-transport-security
// maps, SO_REUSE* inside socket-options. Value types follow etcd, which decodes the file
// into typed Go fields: numbers and booleans must be unquoted YAML scalars, URL lists are
// one comma-separated string, string lists (log-outputs, cipher-suites, allowed-cn) are
// YAML sequences, durations are integer nanoseconds (600000000000 is 10m). A null value
// keeps the default. Unknown keys are warnings, because etcd's non-strict decoder ignores
// them. Pure function apart from its arguments, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/common/status.h"
#include "server/config/server_config.h"

namespace cairn::config {

// `path` is only used in messages. Invalid YAML, a wrong type and invalid values are
// errors; refused settings are errors unless at etcd's default; ignored settings and
// unknown keys append warnings.
Status ApplyConfigFile(std::string_view yaml_text, const std::string& path, ServerConfig& config,
                       std::vector<std::string>& warnings);

}  // namespace cairn::config
