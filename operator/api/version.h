// Version: Cairn's release versions (the CRD's spec.version: "MAJOR.MINOR.PATCH" with an
// optional leading "v" and "-PRERELEASE"), their order, and etcd's rules for changing the
// version of a running cluster: upgrade one minor version at a time (a major version
// only from X.Y to X+1.0), and downgrade only when the user allows it, one minor version
// at a time as well.
// Thread-safety: plain value type and pure functions.
#pragma once

#include <compare>
#include <optional>
#include <string>

namespace cairn::op {

struct Version {
  int major = 0;
  int minor = 0;
  int patch = 0;
  std::string prerelease;  // without the '-'; a prerelease sorts before its release

  static std::optional<Version> Parse(const std::string& text);
  std::string ToString() const;
  std::strong_ordering operator<=>(const Version& other) const;
  bool operator==(const Version& other) const = default;
};

// Why a running cluster at `from` may not move to `to`; empty when it may.
std::string RefuseVersionChange(const Version& from, const Version& to, bool allow_downgrade);

}  // namespace cairn::op
