#include "operator/api/naming.h"

#include <cctype>

#include <cstdio>

namespace cairn::op::naming {
namespace {

std::optional<int> ParseOrdinal(const std::string& s) {
  if (s.empty() || s.size() > 4) return std::nullopt;
  int v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + (ch - '0');
  }
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  return v;
}

}  // namespace

std::optional<int> OrdinalFromName(const std::string& cluster, const std::string& member_name) {
  const std::string prefix = cluster + "-";
  if (member_name.rfind(prefix, 0) != 0) return std::nullopt;
  return ParseOrdinal(member_name.substr(prefix.size()));
}

std::optional<int> OrdinalFromPeerUrl(const std::string& cluster, const std::string& peer_url) {
  std::string host;
  for (const char* scheme : {"http://", "https://"}) {
    if (peer_url.rfind(scheme, 0) == 0) host = peer_url.substr(std::string(scheme).size());
  }
  if (host.empty()) return std::nullopt;
  host = host.substr(0, host.find(':'));
  const std::string suffix = "." + PeerService(cluster) + ".";
  auto pos = host.find(suffix);
  if (pos == std::string::npos) return std::nullopt;
  return OrdinalFromName(cluster, host.substr(0, pos));
}

std::string MemberIdHex(uint64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

std::optional<uint64_t> ParseMemberIdHex(const std::string& hex) {
  if (hex.empty() || hex.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char ch : hex) {
    int d;
    if (ch >= '0' && ch <= '9') d = ch - '0';
    else if (ch >= 'a' && ch <= 'f') d = ch - 'a' + 10;
    else if (ch >= 'A' && ch <= 'F') d = ch - 'A' + 10;
    else return std::nullopt;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

std::string PreUpgradeBackup(const std::string& cluster, const std::string& version) {
  std::string v;
  for (char ch : version) v += (std::isalnum(static_cast<unsigned char>(ch)) ? static_cast<char>(std::tolower(ch)) : '-');
  return cluster + "-before-" + v;
}

}  // namespace cairn::op::naming
