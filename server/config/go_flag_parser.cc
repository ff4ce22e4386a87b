#include "server/config/go_flag_parser.h"

namespace cairn::config {
namespace {

Status Stray(const std::string& arg) {
  // etcd: fmt.Errorf("%q is not a valid flag", arg).
  return Status::InvalidArgument("cairn: \"" + arg +
                                 "\" is not a valid flag (flags start with - or --; see --help)");
}

}  // namespace

Result<ParsedArgs> ParseGoFlags(const std::vector<std::string>& args,
                                const std::function<FlagSyntax(std::string_view)>& syntax_of) {
  ParsedArgs out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') return Stray(arg);  // includes "-" alone
    if (arg == "--") {
      if (i + 1 < args.size()) return Stray(args[i + 1]);
      break;
    }
    std::string_view body(arg);
    body.remove_prefix(arg[1] == '-' ? 2 : 1);
    if (body.empty() || body[0] == '-' || body[0] == '=') {
      return Status::InvalidArgument("cairn: bad flag syntax: " + arg);
    }
    std::string name(body.substr(0, body.find('=')));
    std::optional<std::string> value;
    if (body.find('=') != std::string_view::npos) {
      value = std::string(body.substr(body.find('=') + 1));
    }

    const FlagSyntax syntax = syntax_of(name);
    if (syntax == FlagSyntax::kUnknown) {
      if (name == "h" || name == "help") {
        out.help = true;
        return out;
      }
      return Status::InvalidArgument("cairn: unknown flag --" + name +
                                     " (run cairn --help for the list of flags)");
    }
    if (syntax == FlagSyntax::kTakesValue && !value) {
      if (i + 1 >= args.size()) {
        return Status::InvalidArgument("cairn: flag needs an argument: --" + name);
      }
      value = args[++i];
    }
    out.flags.push_back({std::move(name), std::move(value)});
  }
  return out;
}

}  // namespace cairn::config
