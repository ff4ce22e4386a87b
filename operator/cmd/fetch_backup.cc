#include "operator/cmd/fetch_backup.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include "operator/backup/full_backup.h"

namespace cairn::op {
namespace {

constexpr const char* kUsage = R"(usage: cairn-operator fetch-backup --bucket=B --manifest=KEY --out=FILE [flags]
Downloads a backup (its <object>.manifest.json names it) and verifies it, into FILE.

  --endpoint=URL     S3-compatible endpoint (default: AWS for --region)
  --region=R         (default us-east-1)
  --bucket=B
  --path-style       endpoint/bucket/key addressing (MinIO, Ceph, s3rver)
  --ca-file=PATH     PEM CA bundle trusted besides the system's
  --manifest=KEY     the backup's manifest key, or the backup object's key
  --out=FILE         where the snapshot goes (must not exist)
Credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.
)";

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

int Usage(const std::string& problem) {
  std::fprintf(stderr, "cairn-operator fetch-backup: %s\n%s", problem.c_str(), kUsage);
  return 2;
}

}  // namespace

int FetchBackupMain(int argc, char** argv) {
  std::map<std::string, std::string> flags = {{"--region", "us-east-1"}};
  bool path_style = false;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--path-style") {
      path_style = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") return Usage("help");
    const auto eq = arg.find('=');
    if (eq == std::string::npos) return Usage("flags take --name=value: " + arg);
    const std::string name = arg.substr(0, eq);
    if (name != "--endpoint" && name != "--region" && name != "--bucket" && name != "--ca-file" &&
        name != "--manifest" && name != "--out") {
      return Usage("unknown flag " + name);
    }
    flags[name] = arg.substr(eq + 1);
  }
  for (const char* required : {"--bucket", "--manifest", "--out"}) {
    if (flags[required].empty()) return Usage(std::string(required) + " is required");
  }
  s3::ClientConfig config;
  config.region = flags["--region"];
  config.endpoint = flags["--endpoint"].empty() ? "https://s3." + config.region + ".amazonaws.com" : flags["--endpoint"];
  config.bucket = flags["--bucket"];
  config.path_style = path_style;
  config.ca_file = flags["--ca-file"];
  config.credentials = {Env("AWS_ACCESS_KEY_ID"), Env("AWS_SECRET_ACCESS_KEY"), Env("AWS_SESSION_TOKEN")};
  auto client = s3::Client::Create(config);
  if (!client.ok()) return Usage(client.status().ToString());
  auto store = backup::NewS3Store(std::move(*client), config.bucket);

  std::string manifest = flags["--manifest"];
  if (!backup::IsManifestName(manifest)) manifest = backup::ManifestName(manifest);
  const std::string out = flags["--out"];
  const std::string part = out + ".part";
  std::ifstream exists(out);
  if (exists.good()) return Usage(out + " exists; refusing to overwrite it");
  std::ofstream file(part, std::ios::binary | std::ios::trunc);
  if (!file) return Usage("cannot write " + part);
  auto fetched = backup::FetchBackup(*store, manifest, [&](const char* p, size_t n) {
    file.write(p, static_cast<std::streamsize>(n));
    return file ? Status::Ok() : Status::IoError("write " + part);
  });
  file.close();
  if (!fetched.ok() || !file) {
    std::remove(part.c_str());
    std::fprintf(stderr, "cairn-operator fetch-backup: %s\n",
                 fetched.ok() ? ("write " + part + " failed").c_str() : fetched.status().ToString().c_str());
    return 1;
  }
  if (std::rename(part.c_str(), out.c_str()) != 0) {
    std::remove(part.c_str());
    std::fprintf(stderr, "cairn-operator fetch-backup: rename %s failed\n", part.c_str());
    return 1;
  }
  std::printf("fetched %s (revision %lld, %llu bytes, cluster %s) into %s\n", fetched->object.c_str(),
              static_cast<long long>(fetched->revision), static_cast<unsigned long long>(fetched->store_bytes + 32),
              fetched->cluster.c_str(), out.c_str());
  return 0;
}

}  // namespace cairn::op
