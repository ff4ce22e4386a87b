#include "operator/api/version.h"

#include <charconv>
#include <tuple>

namespace cairn::op {
namespace {

bool ParseNumber(const std::string& s, size_t& pos, int* out) {
  const char* begin = s.data() + pos;
  const char* end = s.data() + s.size();
  if (begin == end || *begin < '0' || *begin > '9') return false;
  auto [next, ec] = std::from_chars(begin, end, *out);
  if (ec != std::errc()) return false;
  pos += static_cast<size_t>(next - begin);
  return true;
}

}  // namespace

std::optional<Version> Version::Parse(const std::string& text) {
  Version v;
  size_t pos = !text.empty() && text[0] == 'v' ? 1 : 0;
  if (!ParseNumber(text, pos, &v.major) || pos >= text.size() || text[pos++] != '.') return std::nullopt;
  if (!ParseNumber(text, pos, &v.minor) || pos >= text.size() || text[pos++] != '.') return std::nullopt;
  if (!ParseNumber(text, pos, &v.patch)) return std::nullopt;
  if (pos < text.size()) {
    if (text[pos] != '-' || pos + 1 == text.size()) return std::nullopt;
    v.prerelease = text.substr(pos + 1);
  }
  return v;
}

std::string Version::ToString() const {
  std::string s = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  return prerelease.empty() ? s : s + "-" + prerelease;
}

std::strong_ordering Version::operator<=>(const Version& o) const {
  if (auto c = std::tie(major, minor, patch) <=> std::tie(o.major, o.minor, o.patch); c != 0) return c;
  if (prerelease.empty() || o.prerelease.empty()) return prerelease.empty() <=> o.prerelease.empty();
  return prerelease <=> o.prerelease;
}

std::string RefuseVersionChange(const Version& from, const Version& to, bool allow_downgrade) {
  const bool down = to < from;
  if (down && !allow_downgrade) {
    return "downgrade from " + from.ToString() + " to " + to.ToString() + " refused: set spec.allowDowngrade to allow it";
  }
  const Version& low = down ? to : from;
  const Version& high = down ? from : to;
  const bool one_step = (low.major == high.major && high.minor - low.minor <= 1) ||
                        (high.major == low.major + 1 && high.minor == 0);
  if (one_step) return "";
  return std::string(down ? "downgrade" : "upgrade") + " from " + from.ToString() + " to " + to.ToString() +
         " refused: change one minor version at a time";
}

}  // namespace cairn::op
