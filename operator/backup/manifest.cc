#include "operator/backup/manifest.h"

#include <cstdio>
#include <ctime>

#include "operator/api/time_format.h"

namespace cairn::op::backup {

using nlohmann::json;

json BackupManifest::ToJson() const {
  json j{{"format", kManifestFormat},
              {"cluster", cluster},
              {"object", object},
              {"objectSize", object_size},
              {"objectSHA256", object_sha256},
              {"compression", CompressionName(compression)},
              {"revision", revision},
              {"storeBytes", store_bytes},
              {"storeSHA256", store_sha256},
              {"memberID", member_id},
              {"version", version},
              {"started", FormatTime(started)},
              {"completed", FormatTime(completed)}};
  if (hash_kv) j["hashKV"] = *hash_kv;
  return j;
}

Result<BackupManifest> BackupManifest::Parse(const json& j) {
  auto bad = [](const std::string& field) {
    return Status::InvalidArgument("backup manifest: missing or malformed \"" + field + "\"");
  };
  if (!j.is_object() || j.value("format", "") != kManifestFormat) return bad("format");
  BackupManifest m;
  auto str = [&](const char* f, std::string& out) {
    auto it = j.find(f);
    if (it == j.end() || !it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  auto num = [&](const char* f, auto& out) {
    auto it = j.find(f);
    if (it == j.end() || !it->is_number_integer()) return false;
    out = it->get<std::decay_t<decltype(out)>>();
    return true;
  };
  std::string compression, started, completed;
  if (!str("cluster", m.cluster)) return bad("cluster");
  if (!str("object", m.object) || m.object.empty()) return bad("object");
  if (!num("objectSize", m.object_size)) return bad("objectSize");
  if (!str("objectSHA256", m.object_sha256) || m.object_sha256.size() != 64) return bad("objectSHA256");
  if (!str("compression", compression) || !ParseCompression(compression)) return bad("compression");
  m.compression = *ParseCompression(compression);
  if (!num("revision", m.revision) || m.revision < 0) return bad("revision");
  if (!num("storeBytes", m.store_bytes)) return bad("storeBytes");
  if (!str("storeSHA256", m.store_sha256) || m.store_sha256.size() != 64) return bad("storeSHA256");
  if (!str("memberID", m.member_id)) return bad("memberID");
  if (!str("version", m.version)) return bad("version");
  if (!str("started", started) || ParseTime(started) == TimePoint{}) return bad("started");
  if (!str("completed", completed) || ParseTime(completed) == TimePoint{}) return bad("completed");
  if (j.contains("hashKV")) {
    if (!j["hashKV"].is_number_unsigned()) return bad("hashKV");
    m.hash_kv = j["hashKV"].get<uint32_t>();
  }
  m.started = ParseTime(started);
  m.completed = ParseTime(completed);
  return m;
}

std::string FullBackupObjectName(const std::string& prefix, TimePoint at, int64_t revision, Compression c) {
  std::time_t tt = Clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  char rev[32];
  std::snprintf(rev, sizeof rev, "%020lld", static_cast<long long>(revision));
  return prefix + "full-" + stamp + "-" + rev + ".db" + CompressionSuffix(c);
}

std::optional<int64_t> FullBackupRevision(const std::string& prefix, const std::string& key) {
  // "full-" + 16 characters of time + "-" + 20 digits + ".db".
  const std::string head = prefix + "full-";
  if (key.compare(0, head.size(), head) != 0 || key.size() < head.size() + 40) return std::nullopt;
  const size_t at = head.size() + 17;
  if (key[at - 1] != '-' || key.compare(at + 20, 3, ".db") != 0) return std::nullopt;
  const std::string digits = key.substr(at, 20);
  if (digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoll(digits);
}

std::string ManifestName(const std::string& object) { return object + kManifestSuffix; }

bool IsManifestName(const std::string& key) {
  const std::string suffix = kManifestSuffix;
  return key.size() > suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string ObjectOfManifest(const std::string& manifest) {
  return IsManifestName(manifest) ? manifest.substr(0, manifest.size() - std::string(kManifestSuffix).size()) : "";
}

}  // namespace cairn::op::backup
