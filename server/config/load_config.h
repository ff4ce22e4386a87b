// LoadConfig: the etcd-compatible front door of the cairn binary's configuration.
//
// Reads etcd's command-line flags, ETCD_* environment variables and etcd's YAML config
// file with etcd 3.4/3.5 precedence:
//   - without a config file: defaults < ETCD_<FLAG> variables < command-line flags, and
//     setting one setting both ways is an error (etcd: "conflicting environment variable
//     ... is shadowed by corresponding command-line flag");
//   - with --config-file (or ETCD_CONFIG_FILE): the file alone configures the server;
//     other flags are still syntax-checked (Go parses them) but ignored, and environment
//     variables are ignored; both produce a warning here so the operator sees it.
// Pure: no global state, no printing, no process exit; the only side effect is reading
// the config file. The caller prints `warnings`, HelpText() and the version. Thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "server/common/status.h"
#include "server/config/server_config.h"

namespace cairn::config {

struct LoadedConfig {
  ServerConfig config;                // meaningful only if neither show_* is set
  std::vector<std::string> warnings;  // one line each, ready to print
  bool show_help = false;             // -h/--help: print HelpText() and exit 0
  bool show_version = false;          // --version: print the version and exit 0
};

// `args` excludes the program name; `env` is the process environment (name -> value).
// Errors carry a one-line, "cairn: "-prefixed message for the operator.
Result<LoadedConfig> LoadConfig(const std::vector<std::string>& args,
                                const std::map<std::string, std::string>& env);

// Usage and every flag with its default, grouped like etcd's help, noting which flags
// Cairn ignores or refuses.
std::string HelpText();

}  // namespace cairn::config
