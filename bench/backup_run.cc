// cairn-backup-run: one full backup exactly as the operator's BackupController takes it
// (operator/backup/full_backup.h: a member's snapshot stream -> compression -> S3
// multipart upload -> manifest), timed, with this process's memory before and at its peak,
// for bench/backup_throughput.sh. Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
//   cairn-backup-run MEMBER_URL S3_ENDPOINT BUCKET COMPRESSION
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "operator/backup/full_backup.h"

namespace {

// VmRSS or VmHWM from /proc/self/status, in KiB.
long ProcKiB(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::string(field).size());
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cairn::op;
  if (argc != 5) {
    std::fprintf(stderr, "usage: cairn-backup-run MEMBER_URL S3_ENDPOINT BUCKET none|gzip|zstd\n");
    return 2;
  }
  auto compression = backup::ParseCompression(argv[4]);
  if (!compression) return 2;
  s3::ClientConfig config;
  config.endpoint = argv[2];
  config.bucket = argv[3];
  const char* id = std::getenv("AWS_ACCESS_KEY_ID");
  const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  config.credentials = {id ? id : "", secret ? secret : "", ""};
  auto client = s3::Client::Create(config);
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 1;
  }
  auto store = backup::NewS3Store(std::move(*client), config.bucket);
  MembershipClient members({argv[1]}, std::chrono::seconds(5));
  backup::FullBackupRequest request;
  request.cluster = "bench/bench";
  request.endpoints = {argv[1]};
  request.prefix = "bench/";
  request.compression = *compression;
  const long rss_before = ProcKiB("VmRSS:");
  const auto start = std::chrono::steady_clock::now();
  auto m = backup::RunFullBackup(members, *store, request);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!m.ok()) {
    std::fprintf(stderr, "%s\n", m.status().ToString().c_str());
    return 1;
  }
  std::printf("seconds=%.2f store_bytes=%llu object_bytes=%llu rss_before_kib=%ld rss_peak_kib=%ld\n", secs,
              static_cast<unsigned long long>(m->store_bytes), static_cast<unsigned long long>(m->object_size),
              rss_before, ProcKiB("VmHWM:"));
  return 0;
}
