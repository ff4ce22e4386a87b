#include "operator/api/time_format.h"

#include <ctime>

namespace cairn::op {

std::string FormatTime(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::chrono::system_clock::time_point ParseTime(const std::string& s) {
  std::tm tm{};
  if (s.size() < 20 || !strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace cairn::op
