#include "server/config/load_config.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "server/config/config_file.h"
#include "server/config/finalize.h"
#include "server/config/flag_registry.h"
#include "server/config/go_flag_parser.h"
#include "server/config/go_values.h"

namespace cairn::config {
namespace {

constexpr char kConfigFileEnv[] = "ETCD_CONFIG_FILE";
constexpr char kVersionEnv[] = "ETCD_VERSION";

FlagSyntax SyntaxOf(std::string_view name) {
  const FlagSpec* spec = FindFlag(name);
  if (spec == nullptr) return FlagSyntax::kUnknown;
  const bool boolean = spec->kind == FlagKind::kBool || spec->kind == FlagKind::kLegacy;
  return boolean ? FlagSyntax::kBoolean : FlagSyntax::kTakesValue;
}

bool IsEtcdEnv(const std::string& key) { return key.rfind("ETCD_", 0) == 0; }

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument("cairn: cannot read config file \"" + path +
                                   "\": " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// ETCD_<FLAG> variables onto `config`. Records the flags they set in `env_set`.
Status ApplyEnv(const std::map<std::string, std::string>& env,
                const std::set<std::string>& cmdline_set, ServerConfig& config,
                std::set<std::string>& env_set, std::vector<std::string>& warnings) {
  for (const auto& [key, value] : env) {
    if (!IsEtcdEnv(key) || key == kConfigFileEnv) continue;
    if (key == kVersionEnv) {
      if (!value.empty()) {
        warnings.push_back(
            "cairn: cannot set special environment variable ETCD_VERSION; ignoring it");
      }
      continue;
    }
    std::string name;
    for (char c : key.substr(5)) {
      name += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    const FlagSpec* spec = FindFlag(name);
    if (spec == nullptr || FlagToEnv(spec->name) != key) {
      // The value is left out on purpose: environments carry secrets.
      warnings.push_back("cairn: unrecognized environment variable " + key);
      continue;
    }
    if (cmdline_set.count(name) != 0) {
      return Status::InvalidArgument("cairn: conflicting environment variable " + key +
                                     " is shadowed by corresponding command-line flag --" + name +
                                     " (either unset environment variable or disable flag)");
    }
    if (value.empty()) continue;  // etcd treats an empty variable as unset
    CAIRN_RETURN_IF_ERROR(
        ApplySetting(*spec, value, key + " (flag --" + name + ")", config, warnings));
    env_set.insert(name);
  }
  return Status::Ok();
}

// The config file alone configures the server; flags and ETCD_* variables given besides
// it are named in warnings so the operator learns they had no effect.
Status LoadFromFile(const std::string& path, const std::vector<FlagOccurrence>& flags,
                    const std::map<std::string, std::string>& env, LoadedConfig& out) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  CAIRN_RETURN_IF_ERROR(ApplyConfigFile(*text, path, out.config, out.warnings));
  std::set<std::string> listed;
  std::string ignored_flags;
  for (const FlagOccurrence& f : flags) {
    if (f.name == "config-file" || f.name == "version" || !listed.insert(f.name).second) continue;
    ignored_flags += (ignored_flags.empty() ? "--" : ", --") + f.name;
  }
  if (!ignored_flags.empty()) {
    out.warnings.push_back(
        "cairn: config file \"" + path +
        "\" is in use, so these flags are ignored (as etcd does): " + ignored_flags);
  }
  std::string ignored_env;
  for (const auto& [key, value] : env) {
    if (IsEtcdEnv(key) && key != kConfigFileEnv) {
      ignored_env += (ignored_env.empty() ? "" : ", ") + key;
    }
  }
  if (!ignored_env.empty()) {
    out.warnings.push_back(
        "cairn: config file \"" + path +
        "\" is in use, so these environment variables are ignored (as etcd does): " + ignored_env);
  }
  return Status::Ok();
}

// Defaults < ETCD_* variables < flags, where a setting given both ways is an error.
Status LoadFromFlagsAndEnv(const std::vector<FlagOccurrence>& flags,
                           const std::set<std::string>& cmdline_set,
                           const std::map<std::string, std::string>& env, LoadedConfig& out,
                           ExplicitlySet& set) {
  for (const FlagOccurrence& f : flags) {
    if (f.name == "version" || f.name == "config-file") continue;
    CAIRN_RETURN_IF_ERROR(ApplySetting(*FindFlag(f.name), f.value.value_or("true"),
                                       "flag --" + f.name, out.config, out.warnings));
  }
  std::set<std::string> env_set;
  CAIRN_RETURN_IF_ERROR(ApplyEnv(env, cmdline_set, out.config, env_set, out.warnings));
  auto given = [&](const char* name) { return cmdline_set.count(name) + env_set.count(name) > 0; };
  set.from_flags = true;
  set.listen_client_urls = given("listen-client-urls");
  set.advertise_client_urls = given("advertise-client-urls");
  return Status::Ok();
}

}  // namespace

Result<LoadedConfig> LoadConfig(const std::vector<std::string>& args,
                                const std::map<std::string, std::string>& env) {
  auto parsed = ParseGoFlags(args, SyntaxOf);
  if (!parsed.ok()) return parsed.status();
  LoadedConfig out;
  if (parsed->help) {
    out.show_help = true;
    return out;
  }

  // Type-check every value first, as Go's flag.Parse does, even for flags a config file
  // will make irrelevant.
  std::string config_file;
  std::set<std::string> cmdline_set;
  ServerConfig scratch;
  for (const FlagOccurrence& f : parsed->flags) {
    const FlagSpec& spec = *FindFlag(f.name);
    const std::string value = f.value.value_or("true");
    if (Status s = spec.apply(scratch, value); !s.ok()) {
      return Status::InvalidArgument("cairn: invalid value \"" + value + "\" for flag --" + f.name +
                                     ": " + s.message());
    }
    if (f.name == "version") out.show_version = *ParseGoBool(value);
    if (f.name == "config-file") config_file = value;
    cmdline_set.insert(f.name);
  }
  if (out.show_version) return out;

  if (config_file.empty() && env.count(kConfigFileEnv) != 0) config_file = env.at(kConfigFileEnv);
  ExplicitlySet set;
  if (!config_file.empty()) {
    CAIRN_RETURN_IF_ERROR(LoadFromFile(config_file, parsed->flags, env, out));
  } else {
    CAIRN_RETURN_IF_ERROR(LoadFromFlagsAndEnv(parsed->flags, cmdline_set, env, out, set));
  }
  CAIRN_RETURN_IF_ERROR(FinalizeConfig(out.config, set, out.warnings));
  return out;
}

}  // namespace cairn::config
