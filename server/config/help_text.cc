// HelpText(), generated from the flag registry so help can never disagree with parsing.
#include "server/config/flag_registry.h"
#include "server/config/load_config.h"

namespace cairn::config {

std::string HelpText() {
  std::string out =
      "Usage:\n\n"
      "  cairn [flags]\n    Start a Cairn server (accepts etcd's flags).\n\n"
      "  cairn --version\n    Show the version of Cairn.\n\n"
      "  cairn -h | --help\n    Show the help information about Cairn.\n\n"
      "Every flag can also be set through ETCD_<FLAG_NAME> (e.g. ETCD_DATA_DIR); a flag and\n"
      "its variable must not both be set. With --config-file, other flags and ETCD_*\n"
      "variables are ignored.\n";
  std::string_view section;
  for (const FlagSpec& f : AllFlags()) {
    if (f.section != section) {
      section = f.section;
      out += "\n" + std::string(section) + ":\n";
    }
    out += "  --" + std::string(f.name);
    if (f.kind != FlagKind::kLegacy) out += " '" + std::string(f.default_value) + "'";
    out += "\n";
    if (!f.help.empty()) out += "    " + std::string(f.help) + "\n";
    if (f.disposition == Disposition::kIgnored && f.kind != FlagKind::kLegacy) {
      out += "    [Cairn: accepted but ignored]\n";
    } else if (f.disposition == Disposition::kRefused) {
      out += "    [Cairn: not supported yet; refused unless left at the default]\n";
    }
  }
  return out;
}

}  // namespace cairn::config
