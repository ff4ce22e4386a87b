// Scalar flag values read the way Go's flag package reads them.
//
// etcd's flags are Go flag.Value types: booleans go through strconv.ParseBool and
// integers through strconv.ParseUint/ParseInt with base 0 (so "0x10" and "0o17" are
// valid). Cairn accepts exactly those spellings so etcd launch scripts keep working.
// Pure functions, thread-safe. Error messages name the problem, not the flag; callers add
// which flag or key the value came from.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/common/status.h"

namespace cairn::config {

// "1", "t", "T", "true", "TRUE", "True" and the matching false spellings.
Result<bool> ParseGoBool(std::string_view text);

// Non-negative integer; decimal, or 0x/0o/0b/leading-0 prefixed like Go's base 0.
Result<uint64_t> ParseGoUint(std::string_view text);

// Signed integer, same prefixes as ParseGoUint.
Result<int64_t> ParseGoInt(std::string_view text);

// Splits a comma-separated flag value. An empty string is an empty list (etcd's
// StringsValue does the same), and surrounding blanks of each element are kept as given.
std::vector<std::string> SplitComma(std::string_view text);

// Joins with "," (the inverse of SplitComma for elements without commas).
std::string JoinComma(const std::vector<std::string>& parts);

}  // namespace cairn::config
