#include "operator/cmd/backup_to_dir.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "operator/backup/full_backup.h"
#include "operator/backup/housekeeping.h"
#include "operator/kube/kube_config.h"
#include "operator/resources/backup_pod.h"

namespace cairn::op {
namespace {

using json = nlohmann::json;

constexpr const char* kUsage = R"(usage: cairn-operator backup-to-dir --dir=DIR --prefix=P --endpoints=URLS [flags]
Streams one full backup of a cluster into DIR (objects under P, with their manifests),
then deletes the full backups named by --expire.

  --dir=DIR            the directory (a mounted PersistentVolumeClaim); must exist
  --prefix=P           object names start with P: <destination prefix><namespace>/<cluster>/
  --endpoints=URLS     member client URLs, comma-separated (followers are asked first)
  --cluster=NS/NAME    recorded in the manifest
  --version=V          the cluster's Cairn version, recorded in the manifest
  --compression=C      none, gzip or zstd (default zstd)
  --cacert=FILE        PEM CA the members' client certificates chain to (https members)
  --cert=FILE          client certificate presented to the members (with --key)
  --key=FILE
  --timeout=SECONDS    the snapshot stream must end by then (default 3600)
  --expire=KEY         a full backup object under P to delete once this backup is stored
                       (repeatable)
  --result-file=FILE   where the JSON result goes (default /dev/termination-log)
Environment: CAIRN_AUTH_PASSWORD (and CAIRN_AUTH_USERNAME, default root) for a cluster
with etcd auth on: the user backups authenticate as (it needs the root role).
)";

int Usage(const std::string& problem) {
  std::fprintf(stderr, "cairn-operator backup-to-dir: %s\n%s", problem.c_str(), kUsage);
  return 2;
}

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

int Report(const std::string& result_file, const json& result, int code) {
  const std::string line = result.dump();
  std::ofstream out(result_file, std::ios::trunc);
  if (out) out << line << "\n";
  std::fprintf(code == 0 ? stdout : stderr, "%s\n", line.c_str());
  return code;
}

}  // namespace

int BackupToDirMain(int argc, char** argv) {
  std::map<std::string, std::string> flags = {
      {"--compression", "zstd"}, {"--timeout", "3600"}, {"--result-file", "/dev/termination-log"}};
  std::vector<std::string> expire;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") return Usage("help");
    const auto eq = arg.find('=');
    if (eq == std::string::npos) return Usage("flags take --name=value: " + arg);
    const std::string name = arg.substr(0, eq), value = arg.substr(eq + 1);
    if (name == "--expire") {
      expire.push_back(value);
      continue;
    }
    static const char* const kKnown[] = {"--dir",    "--prefix", "--endpoints", "--cluster", "--version",
                                         "--compression", "--cacert", "--cert", "--key", "--timeout",
                                         "--result-file"};
    if (std::find(std::begin(kKnown), std::end(kKnown), name) == std::end(kKnown)) {
      return Usage("unknown flag " + name);
    }
    flags[name] = value;
  }
  for (const char* required : {"--dir", "--prefix", "--endpoints"}) {
    if (flags[required].empty()) return Usage(std::string(required) + " is required");
  }
  const std::string prefix = flags["--prefix"];
  if (prefix.back() != '/') return Usage("--prefix must end with /");
  for (const auto& key : expire) {
    // Only full backups of this cluster: a wrong flag must not delete anything else.
    if (!backup::FullBackupRevision(prefix, key) || backup::IsManifestName(key)) {
      return Usage("--expire " + key + " is not a full backup object under " + prefix);
    }
  }
  auto compression = backup::ParseCompression(flags["--compression"]);
  if (!compression) return Usage("unknown --compression " + flags["--compression"]);
  const int timeout = std::atoi(flags["--timeout"].c_str());
  if (timeout <= 0) return Usage("--timeout must be a number of seconds");
  std::error_code ec;
  if (!std::filesystem::is_directory(flags["--dir"], ec)) return Usage(flags["--dir"] + " is not a directory");
  const std::string result_file = flags["--result-file"];
  auto fail = [&](const Status& st) { return Report(result_file, {{"error", st.ToString()}}, 1); };

  ClientTls tls;
  for (auto [flag, pem] : {std::pair{"--cacert", &tls.ca_pem}, std::pair{"--cert", &tls.cert_pem},
                           std::pair{"--key", &tls.key_pem}}) {
    if (flags[flag].empty()) continue;
    auto text = kube::ReadFileToString(flags[flag]);
    if (!text.ok()) return Usage(text.status().message());
    *pem = *text;
  }
  if (tls.cert_pem.empty() != tls.key_pem.empty()) return Usage("--cert and --key go together");
  auto store = backup::NewDirectoryStore(flags["--dir"]);
  auto keys = store->List(prefix);
  if (!keys.ok()) return fail(keys.status());
  for (const auto& orphan : backup::ObjectsWithoutManifest(*keys, prefix)) {
    Status removed = store->Delete(orphan);
    if (!removed.ok()) return fail(removed);
  }

  const std::vector<std::string> endpoints = SplitCommas(flags["--endpoints"]);
  ClientAuth auth;
  if (const char* password = std::getenv(resources::kAuthPasswordEnv); password != nullptr && *password != '\0') {
    const char* user = std::getenv(resources::kAuthUserEnv);
    auth = {user != nullptr && *user != '\0' ? user : "root", password};
  }
  MembershipClient members(endpoints, std::chrono::seconds(5), tls, auth);
  backup::FullBackupRequest request;
  request.cluster = flags["--cluster"];
  request.version = flags["--version"];
  request.prefix = prefix;
  request.compression = *compression;
  request.limit = std::chrono::seconds(timeout);
  request.endpoints = backup::PreferFollowers(endpoints, members.Observe());
  auto manifest = backup::RunFullBackup(members, *store, request);
  if (!manifest.ok()) return fail(manifest.status());
  json result = {{"manifest", manifest->ToJson()}, {"expired", json::array()}};
  for (const auto& key : expire) {
    if (key == manifest->object) continue;  // this very run wrote it again (same second, same revision)
    // The backup is stored and good whatever happens here; what is not expired now is
    // named again to the next run.
    Status removed = backup::ExpireFullBackup(*store, key);
    if (!removed.ok()) {
      result["expireError"] = removed.ToString();
      break;
    }
    result["expired"].push_back(key);
  }
  return Report(result_file, result, 0);
}

}  // namespace cairn::op
