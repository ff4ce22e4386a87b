#include "server/config/go_values.h"

#include <charconv>
#include <limits>

namespace cairn::config {

Result<bool> ParseGoBool(std::string_view t) {
  if (t == "1" || t == "t" || t == "T" || t == "true" || t == "TRUE" || t == "True") return true;
  if (t == "0" || t == "f" || t == "F" || t == "false" || t == "FALSE" || t == "False") {
    return false;
  }
  return Status::InvalidArgument("not a boolean (use true or false)");
}

Result<uint64_t> ParseGoUint(std::string_view text) {
  std::string_view s = text;
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  } else if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
    base = 8;
    s.remove_prefix(2);
  } else if (s.size() > 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
    base = 2;
    s.remove_prefix(2);
  } else if (s.size() > 1 && s[0] == '0') {
    base = 8;
    s.remove_prefix(1);
  }
  if (!s.empty() && s[0] == '-') return Status::InvalidArgument("must not be negative");
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (s.empty() || ec == std::errc::invalid_argument || end != s.data() + s.size()) {
    return Status::InvalidArgument("not a valid non-negative integer");
  }
  if (ec == std::errc::result_out_of_range) return Status::InvalidArgument("value out of range");
  return v;
}

Result<int64_t> ParseGoInt(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    return Status::InvalidArgument("not a valid integer");
  }
  auto magnitude = ParseGoUint(s);
  if (!magnitude.ok()) return Status::InvalidArgument("not a valid integer");
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (*magnitude > kMax + (negative ? 1 : 0)) return Status::InvalidArgument("value out of range");
  if (negative) {
    return *magnitude == kMax + 1 ? std::numeric_limits<int64_t>::min()
                                  : -static_cast<int64_t>(*magnitude);
  }
  return static_cast<int64_t>(*magnitude);
}

std::vector<std::string> SplitComma(std::string_view text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    out.emplace_back(text.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string JoinComma(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += ",";
    out += parts[i];
  }
  return out;
}

}  // namespace cairn::config
