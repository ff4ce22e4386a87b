#include "server/config/config_file.h"

#include <yaml-cpp/yaml.h>

#include "server/config/flag_registry.h"
#include "server/config/go_values.h"

namespace cairn::config {
namespace {

// Maps whose entries are settings of their own (etcd's nested config structs).
constexpr std::string_view kNestedMaps[] = {"client-transport-security", "peer-transport-security",
                                            "socket-options"};

// yaml-cpp tags quoted scalars "!" and plain ones "?": etcd's decoder keeps "5" (a
// string) and 5 (a number) apart, so Cairn does too.
bool IsPlainScalar(const YAML::Node& n) { return n.IsScalar() && n.Tag() != "!"; }

// Converts the YAML value of `spec` into the flag text ApplySetting understands.
Result<std::string> ToFlagText(const FlagSpec& spec, const YAML::Node& node) {
  switch (spec.kind) {
    case FlagKind::kBool: {
      bool b = false;
      if (!IsPlainScalar(node) || !YAML::convert<bool>::decode(node, b)) {
        return Status::InvalidArgument("expected a boolean");
      }
      return std::string(b ? "true" : "false");
    }
    case FlagKind::kUint:
    case FlagKind::kInt:
      if (!IsPlainScalar(node)) return Status::InvalidArgument("expected an unquoted integer");
      return node.Scalar();
    case FlagKind::kDuration: {
      if (!IsPlainScalar(node) || !ParseGoInt(node.Scalar()).ok()) {
        return Status::InvalidArgument(
            "expected integer nanoseconds (etcd's config file does not take \"10m\"-style "
            "durations; e.g. 600000000000 is 10m)");
      }
      return node.Scalar() + "ns";
    }
    case FlagKind::kStringList: {
      if (!node.IsSequence()) return Status::InvalidArgument("expected a YAML list of strings");
      std::vector<std::string> items;
      for (const YAML::Node& item : node) {
        if (!item.IsScalar()) return Status::InvalidArgument("expected a YAML list of strings");
        items.push_back(item.Scalar());
      }
      return JoinComma(items);
    }
    default:
      if (!node.IsScalar()) {
        return Status::InvalidArgument(spec.kind == FlagKind::kUrlList
                                           ? "expected one comma-separated string of URLs"
                                           : "expected a string");
      }
      return node.Scalar();
  }
}

Status ApplyKey(const std::string& key, const YAML::Node& value, const std::string& path,
                ServerConfig& config, std::vector<std::string>& warnings) {
  const FlagSpec* spec = FindFlagByYamlKey(key);
  if (spec == nullptr) {
    warnings.push_back("cairn: config file \"" + path + "\": unknown key \"" + key +
                       "\" ignored (etcd ignores unknown keys too)");
    return Status::Ok();
  }
  if (value.IsNull()) return Status::Ok();
  auto text = ToFlagText(*spec, value);
  if (!text.ok()) {
    return Status::InvalidArgument("cairn: config file \"" + path + "\": key \"" + key +
                                   "\": " + text.status().message());
  }
  return ApplySetting(*spec, *text, "config file key \"" + key + "\"", config, warnings);
}

Status ApplyMap(const YAML::Node& root, const std::string& path, ServerConfig& config,
                std::vector<std::string>& warnings) {
  for (const auto& entry : root) {
    const std::string key = entry.first.as<std::string>();
    const YAML::Node& value = entry.second;
    bool nested = false;
    for (std::string_view m : kNestedMaps) nested = nested || key == m;
    if (!nested) {
      CAIRN_RETURN_IF_ERROR(ApplyKey(key, value, path, config, warnings));
      continue;
    }
    if (value.IsNull()) continue;
    if (!value.IsMap()) {
      return Status::InvalidArgument("cairn: config file \"" + path + "\": key \"" + key +
                                     "\": expected a map");
    }
    for (const auto& sub : value) {
      CAIRN_RETURN_IF_ERROR(
          ApplyKey(key + "." + sub.first.as<std::string>(), sub.second, path, config, warnings));
    }
  }
  return Status::Ok();
}

}  // namespace

Status ApplyConfigFile(std::string_view yaml_text, const std::string& path, ServerConfig& config,
                       std::vector<std::string>& warnings) {
  try {
    YAML::Node root = YAML::Load(std::string(yaml_text));
    if (root.IsNull()) return Status::Ok();
    if (!root.IsMap()) {
      return Status::InvalidArgument("cairn: config file \"" + path +
                                     "\": expected a YAML map of settings");
    }
    return ApplyMap(root, path, config, warnings);
  } catch (const YAML::Exception& e) {
    // yaml-cpp reports malformed YAML (and non-scalar map keys) by throwing.
    return Status::InvalidArgument("cairn: config file \"" + path +
                                   "\": invalid YAML: " + e.what());
  }
}

}  // namespace cairn::config
