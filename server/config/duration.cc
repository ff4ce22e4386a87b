#include "server/config/duration.h"

#include <cstdint>
#include <limits>

namespace cairn::config {
namespace {

// Unit lengths in nanoseconds, longest suffix first so "ms" is not read as "m" + "s".
struct Unit {
  std::string_view suffix;
  uint64_t nanos;
};
constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1000},
    {"\xC2\xB5s", 1000},  // U+00B5 micro sign
    {"\xCE\xBCs", 1000},  // U+03BC Greek mu
    {"ms", 1000000},
    {"s", 1000000000ULL},
    {"m", 60ULL * 1000000000ULL},
    {"h", 3600ULL * 1000000000ULL},
};

Status Invalid(std::string_view text) {
  return Status::InvalidArgument("time: invalid duration \"" + std::string(text) + "\"");
}

}  // namespace

Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) return Invalid(text);

  // Accumulate in unsigned 64 bits and compare against int64's range once at the end of
  // each step, exactly as Go does, so "9223372036854775807ns" is valid and one more is not.
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  const uint64_t limit = negative ? kMax + 1 : kMax;
  uint64_t total = 0;
  while (!s.empty()) {
    uint64_t whole = 0;
    size_t i = 0;
    bool whole_overflow = false;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (whole > (limit - static_cast<uint64_t>(s[i] - '0')) / 10) whole_overflow = true;
      whole = whole * 10 + static_cast<uint64_t>(s[i] - '0');
    }
    const bool had_whole = i > 0;
    s.remove_prefix(i);
    // The fraction is kept as digits and applied after the unit is known.
    std::string_view frac;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      size_t j = 0;
      while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
      frac = s.substr(0, j);
      s.remove_prefix(j);
    }
    if (!had_whole && frac.empty()) return Invalid(text);
    if (whole_overflow) return Invalid(text);

    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (s.substr(0, u.suffix.size()) == u.suffix &&
          (unit == nullptr || u.suffix.size() > unit->suffix.size())) {
        unit = &u;
      }
    }
    if (unit == nullptr) {
      return Status::InvalidArgument(
          s.empty() ? "time: missing unit in duration \"" + std::string(text) + "\""
                    : "time: unknown unit in duration \"" + std::string(text) + "\"");
    }
    s.remove_prefix(unit->suffix.size());

    if (whole > limit / unit->nanos) return Invalid(text);
    uint64_t value = whole * unit->nanos;
    // Fractional part: scale digit by digit; digits past nanosecond precision drop out.
    uint64_t scale = unit->nanos;
    for (char c : frac) {
      scale /= 10;
      if (scale == 0) break;
      value += static_cast<uint64_t>(c - '0') * scale;
    }
    if (value > limit - total) return Invalid(text);
    total += value;
  }
  if (negative) {
    return std::chrono::nanoseconds(total == kMax + 1 ? std::numeric_limits<int64_t>::min()
                                                      : -static_cast<int64_t>(total));
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(total));
}

}  // namespace cairn::config
