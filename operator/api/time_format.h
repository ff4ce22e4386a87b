// metav1.Time's text form: RFC 3339 in UTC with second precision ("2026-12-07T08:15:00Z"),
// the one way the operator writes times into objects, and reads them back.
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <string>

namespace cairn::op {

std::string FormatTime(std::chrono::system_clock::time_point t);
// Fractional seconds tolerated; the epoch when absent or malformed.
std::chrono::system_clock::time_point ParseTime(const std::string& rfc3339);

}  // namespace cairn::op
