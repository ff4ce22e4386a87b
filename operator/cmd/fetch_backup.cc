#include "operator/cmd/fetch_backup.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "operator/api/time_format.h"
#include "operator/backup/full_backup.h"
#include "operator/backup/point_in_time.h"

namespace cairn::op {
namespace {

constexpr const char* kUsage = R"(usage: cairn-operator fetch-backup (--bucket=B | --dir=DIR) --manifest=KEY --out=FILE [flags]
Downloads a backup (its <object>.manifest.json names it) and verifies it, into FILE.
With --to-revision or --to-time (a point-in-time restore), the full backup is the
newest at or before the target among those beside --manifest, and the delta segments
from it to the target go, checked and cut at the target, into --deltas-out for
`cairn snapshot restore FILE --replay=DELTAS`.

  --endpoint=URL     S3-compatible endpoint (default: AWS for --region)
  --region=R         (default us-east-1)
  --bucket=B
  --dir=DIR          instead of a bucket: the directory the backups are in (a mounted
                     PersistentVolumeClaim), keys relative to it
  --path-style       endpoint/bucket/key addressing (MinIO, Ceph, s3rver)
  --ca-file=PATH     PEM CA bundle trusted besides the system's
  --manifest=KEY     the backup's manifest key, or the backup object's key
  --out=FILE         where the snapshot goes (must not exist)
  --to-revision=N    restore to exactly revision N
  --to-time=T        restore to the last revision seen by T (RFC 3339, UTC)
  --deltas-out=FILE  where the deltas go (required with a target; must not exist)
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
    if (name != "--endpoint" && name != "--region" && name != "--bucket" && name != "--dir" && name != "--ca-file" &&
        name != "--manifest" && name != "--out" && name != "--to-revision" && name != "--to-time" &&
        name != "--deltas-out") {
      return Usage("unknown flag " + name);
    }
    flags[name] = arg.substr(eq + 1);
  }
  for (const char* required : {"--manifest", "--out"}) {
    if (flags[required].empty()) return Usage(std::string(required) + " is required");
  }
  if (flags["--bucket"].empty() == flags["--dir"].empty()) return Usage("one of --bucket and --dir is required");
  std::unique_ptr<backup::ObjectStore> store;
  if (!flags["--dir"].empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(flags["--dir"], ec)) return Usage(flags["--dir"] + " is not a directory");
    store = backup::NewDirectoryStore(flags["--dir"]);
  } else {
    s3::ClientConfig config;
    config.region = flags["--region"];
    config.endpoint =
        flags["--endpoint"].empty() ? "https://s3." + config.region + ".amazonaws.com" : flags["--endpoint"];
    config.bucket = flags["--bucket"];
    config.path_style = path_style;
    config.ca_file = flags["--ca-file"];
    config.credentials = {Env("AWS_ACCESS_KEY_ID"), Env("AWS_SECRET_ACCESS_KEY"), Env("AWS_SESSION_TOKEN")};
    auto client = s3::Client::Create(config);
    if (!client.ok()) return Usage(client.status().ToString());
    store = backup::NewS3Store(std::move(*client), config.bucket);
  }

  std::string manifest = flags["--manifest"];
  if (!backup::IsManifestName(manifest)) manifest = backup::ManifestName(manifest);
  const std::string out = flags["--out"], deltas_out = flags["--deltas-out"];
  backup::RestoreTarget target;
  if (!flags["--to-revision"].empty()) {
    target.revision = std::atoll(flags["--to-revision"].c_str());
    if (target.revision <= 0) return Usage("--to-revision must be a revision >= 1");
  }
  if (!flags["--to-time"].empty()) {
    if (target.revision > 0) return Usage("--to-revision and --to-time exclude each other");
    target.time = ParseTime(flags["--to-time"]);
    if (*target.time == TimePoint{}) return Usage("--to-time is not an RFC 3339 time: " + flags["--to-time"]);
  }
  const bool point_in_time = target.revision > 0 || target.time.has_value();
  if (point_in_time == deltas_out.empty()) return Usage("--deltas-out goes with --to-revision or --to-time");
  for (const std::string& path : {out, deltas_out}) {
    std::ifstream exists(path);
    if (!path.empty() && exists.good()) return Usage(path + " exists; refusing to overwrite it");
  }
  // Both files appear only once everything is fetched and checked; on any failure neither does.
  const std::string part = out + ".part", deltas_part = deltas_out + ".part";
  auto fail = [&](const std::string& why) {
    std::remove(part.c_str());
    if (point_in_time) std::remove(deltas_part.c_str());
    std::fprintf(stderr, "cairn-operator fetch-backup: %s\n", why.c_str());
    return 1;
  };
  auto to_file = [](std::ofstream& file, const std::string& path) {
    return [&file, path](const char* p, size_t n) {
      file.write(p, static_cast<std::streamsize>(n));
      return file ? Status::Ok() : Status::IoError("write " + path);
    };
  };
  backup::PointInTimePlan plan;
  if (point_in_time) {
    const std::string prefix = manifest.substr(0, manifest.rfind('/') + 1);
    auto planned = backup::PlanPointInTime(*store, prefix, target);
    if (!planned.ok()) return fail(planned.status().ToString());
    plan = *planned;
    manifest = plan.full_manifest;
  }
  std::ofstream file(part, std::ios::binary | std::ios::trunc);
  if (!file) return Usage("cannot write " + part);
  auto fetched = backup::FetchBackup(*store, manifest, to_file(file, part));
  file.close();
  if (!fetched.ok()) return fail(fetched.status().ToString());
  if (!file) return fail("write " + part + " failed");
  backup::ReplayWritten replay;
  if (point_in_time) {
    std::ofstream deltas(deltas_part, std::ios::binary | std::ios::trunc);
    auto written = backup::WriteReplay(*store, plan, target, to_file(deltas, deltas_part));
    deltas.close();
    if (!written.ok()) return fail(written.status().ToString());
    if (!deltas) return fail("write " + deltas_part + " failed");
    replay = *written;
    if (std::rename(deltas_part.c_str(), deltas_out.c_str()) != 0) return fail("rename " + deltas_part + " failed");
  }
  if (std::rename(part.c_str(), out.c_str()) != 0) {
    if (point_in_time) std::remove(deltas_out.c_str());
    return fail("rename " + part + " failed");
  }
  std::printf("fetched %s (revision %lld, %llu bytes, cluster %s) into %s\n", fetched->object.c_str(),
              static_cast<long long>(fetched->revision), static_cast<unsigned long long>(fetched->store_bytes + 32),
              fetched->cluster.c_str(), out.c_str());
  if (point_in_time) {
    std::printf("deltas from revision %lld to %lld (%zu segments) into %s\n",
                static_cast<long long>(fetched->revision + 1), static_cast<long long>(replay.last_revision),
                plan.segments.size(), deltas_out.c_str());
  }
  return 0;
}

}  // namespace cairn::op
