// The flag registry: the ONE table of every etcd server flag and how Cairn treats it.
//
// Each etcd flag is classified exactly once:
//   kImplemented - parsed, validated and stored in ServerConfig (including settings for
//                  upcoming milestones, e.g. TLS files and --initial-cluster).
//   kIgnored     - accepted with a warning naming the flag; ignoring it cannot change
//                  what clients observe (logging, profiling, performance tuning).
//   kRefused     - an error unless left at etcd's default value, because ignoring it
//                  would change behaviour (--discovery, --proxy, --force-new-cluster...).
//                  Only the flags that switch such a feature on are refused; its tuning
//                  knobs (--discovery-fallback, --proxy-dial-timeout...) are kIgnored,
//                  since they are inert while the feature itself cannot be enabled.
// Values of every flag, whatever its classification, are type-checked like etcd's Go
// flag types. The table is immutable static data; all functions are thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/common/status.h"
#include "server/config/server_config.h"

namespace cairn::config {

enum class FlagKind {
  kBool,  // --flag means true; --flag=false
  kString,
  kUint,        // Go uint / uint64
  kInt,         // Go int / int64
  kDuration,    // Go time.Duration; integer nanoseconds in the config file
  kUrlList,     // comma-separated URLs; a string in the config file
  kStringList,  // comma-separated; a YAML sequence in the config file
  kLegacy,      // pre-v3 flags etcd still swallows; any value or none
};

enum class Disposition { kImplemented, kIgnored, kRefused };

using ApplyFn = Status (*)(ServerConfig&, std::string_view value);

struct FlagSpec {
  std::string_view name;  // without dashes
  FlagKind kind;
  Disposition disposition;
  std::string_view default_value;  // etcd's default, as text (help output, refusal check)
  // Config-file key: "" = same as name; "-" = not settable from the config file;
  // "a.b" = key b inside map a (client-transport-security, peer-transport-security...).
  std::string_view yaml_key;
  std::string_view section;  // help grouping
  std::string_view help;
  ApplyFn apply;  // parses + validates; stores iff the flag has a field
};

// All flags, in help order.
std::span<const FlagSpec> AllFlags();

// nullptr when `name` is not an etcd server flag.
const FlagSpec* FindFlag(std::string_view name);

// The flag a config-file key ("max-txn-ops", "client-transport-security.cert-file")
// sets; nullptr if none.
const FlagSpec* FindFlagByYamlKey(std::string_view key);

// The config-file key of `spec` ("" if it has none).
std::string YamlKeyOf(const FlagSpec& spec);

// "data-dir" -> "ETCD_DATA_DIR" (etcd's flags.FlagToEnv).
std::string FlagToEnv(std::string_view name);

// Sets one flag from one source. `origin` describes the source for messages, e.g.
// "flag --max-txn-ops", "ETCD_MAX_TXN_OPS (flag --max-txn-ops)",
// "config file key \"max-txn-ops\"". Invalid values and refused flags (at a non-default
// value) are errors; an ignored flag appends a warning to `warnings`.
// --config-file and --version are in the table (so they parse and show in help) but
// their meaning is LoadConfig's business; applying them here only checks the value.
Status ApplySetting(const FlagSpec& spec, std::string_view value, const std::string& origin,
                    ServerConfig& config, std::vector<std::string>& warnings);

}  // namespace cairn::config
