// Command-line tokenizer with the syntax of Go's flag package, which etcd uses.
//
// Accepted forms: -flag, --flag, -flag=value, --flag=value, and -flag value /
// --flag value for flags that are not booleans. A boolean never consumes the next
// argument ("--pre-vote false" leaves "false" as a stray argument, an error, as in etcd).
// "--" ends flag parsing. -h, -help, --h, --help request help and stop parsing at that
// point, as Go's flag package does. Pure function, thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/common/status.h"

namespace cairn::config {

struct FlagOccurrence {
  std::string name;                  // without dashes
  std::optional<std::string> value;  // nullopt for a boolean given without "="
};

struct ParsedArgs {
  std::vector<FlagOccurrence> flags;  // in command-line order; repeats allowed (last wins)
  bool help = false;
};

// What the tokenizer needs to know about a flag name: unknown, boolean syntax, or
// value-taking.
enum class FlagSyntax { kUnknown, kBoolean, kTakesValue };

// `args` excludes the program name. Errors: unknown flags ("cairn: unknown flag --foo"),
// bad syntax, a missing value, and stray non-flag arguments.
Result<ParsedArgs> ParseGoFlags(const std::vector<std::string>& args,
                                const std::function<FlagSyntax(std::string_view)>& syntax_of);

}  // namespace cairn::config
