// Client: the few S3 operations backups need, against AWS S3 or any S3-compatible
// store (MinIO, Ceph RGW, s3rver...), over cpprestsdk, every request signed with SigV4
// (sigv4.h) including the SHA-256 of its body.
//
// Errors are values: an S3 error becomes a Status whose message names the operation,
// the object, S3's Code and Message from the XML body, the HTTP status and the request
// id; codes map as NotFound (404), PermissionDenied (403), InvalidArgument (400),
// FailedPrecondition (409, 412), OutOfRange (416), Unimplemented (405, 501),
// Unavailable (5xx, 429, connection failures, retries exhausted), DeadlineExceeded
// (timeouts).
// Retries: 5xx, 429, SlowDown, RequestTimeout and connection errors are retried up to
// ClientConfig::max_attempts times in all, sleeping initial_backoff, 2x, 4x ... (capped at
// max_backoff) through the injected sleep function; each attempt is signed anew. Other
// errors are returned at once.
// Memory: Upload holds one part (part_size bytes) at a time and sends it from that
// buffer, GetObject one range (get_range_size bytes) at a time; neither depends on the
// object's size.
// Thread-safety: all methods may be called concurrently on one Client (then the injected
// now and sleep functions are called concurrently too).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "operator/s3/sigv4.h"
#include "server/common/status.h"

namespace cairn::op::s3 {

inline constexpr size_t kMiB = 1024 * 1024;
// S3's limits on multipart uploads: every part but the last at least 5 MiB, at most
// 5 GiB each, at most 10000 parts.
inline constexpr size_t kMinPartSize = 5 * kMiB;
inline constexpr size_t kMaxPartSize = 5120 * kMiB;
inline constexpr int kMaxParts = 10000;

struct ClientConfig {
  std::string endpoint;  // "https://s3.eu-west-1.amazonaws.com", "http://127.0.0.1:9000"; no path
  std::string region = "us-east-1";
  std::string bucket;
  // Path-style: endpoint/bucket/key (MinIO, s3rver, most S3-compatible stores).
  // Virtual-hosted: bucket.endpoint-host/key (AWS's default; needs DNS for the name).
  bool path_style = true;
  Credentials credentials;
  std::string ca_file;  // PEM bundle trusted in addition to the system's; empty: system only
  std::string ca_pem;   // the same, given as PEM text (from a Secret); ca_file wins if both
  // "" (none), "AES256" (SSE-S3) or "aws:kms" (SSE-KMS with the bucket's default key):
  // sent as x-amz-server-side-encryption with every object written.
  std::string server_side_encryption;

  std::chrono::milliseconds timeout{60000};  // per request, on silence (cpprestsdk resets it on progress)
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{10000};
  size_t get_range_size = 8 * kMiB;

  // Injected for tests: the clock whose time is signed, and how to wait between attempts.
  std::function<std::chrono::system_clock::time_point()> now = [] { return std::chrono::system_clock::now(); };
  std::function<void(std::chrono::milliseconds)> sleep;  // default: std::this_thread::sleep_for
};

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;           // as S3 sends it, quotes included
  std::string last_modified;  // as S3 sends it
};

struct UploadResult {
  std::string etag;
  uint64_t size = 0;
  std::string sha256;  // lowercase hex of the whole object, computed while streaming
  int parts = 0;       // 0: the stream fit in one part and was sent with PutObject
};

struct DownloadResult {
  uint64_t size = 0;
  std::string etag;
  std::string sha256;  // lowercase hex of what was handed to the writer
};

// Fills buf with up to cap bytes; returns how many (0 only at the end of the stream) or
// an error that ends the upload.
using Reader = std::function<Result<size_t>(char* buf, size_t cap)>;
// Takes the next n bytes of the object; an error ends the download.
using Writer = std::function<Status(const char* data, size_t n)>;

class Client {
 public:
  // Fails with kInvalidArgument on a malformed endpoint, a missing bucket, region or
  // credentials, an unknown server_side_encryption, or an unreadable ca_file.
  static Result<std::unique_ptr<Client>> Create(ClientConfig config);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One request; for objects up to S3's 5 GiB single-PUT limit. Returns the ETag.
  Result<std::string> PutObject(const std::string& key, const std::string& data);

  // Streams `read` to `key`. A stream that ends within the first part is sent with
  // PutObject; otherwise CreateMultipartUpload, UploadPart per part_size bytes and
  // CompleteMultipartUpload. On any failure (the reader's included) the multipart upload
  // is aborted and the error returned, with the abort's own failure appended if it
  // failed too. part_size must be within [kMinPartSize, kMaxPartSize]; a stream longer
  // than kMaxParts parts fails with kResourceExhausted.
  Result<UploadResult> Upload(const std::string& key, const Reader& read, size_t part_size = 8 * kMiB);

  // Streams the object to `write` in ranges of get_range_size bytes, each retried on its
  // own; every range after the first is conditional on the first's ETag, so an object
  // replaced meanwhile fails with kAborted instead of mixing two versions.
  Result<DownloadResult> GetObject(const std::string& key, const Writer& write);

  Result<ObjectInfo> HeadObject(const std::string& key);

  // Every object under `prefix`, in S3's order (UTF-8 binary), following continuation
  // tokens; page_size is ListObjectsV2's max-keys (S3 caps it at 1000).
  Result<std::vector<ObjectInfo>> ListObjectsV2(const std::string& prefix, int page_size = 1000);

  // Succeeds for a key that does not exist, as S3 does.
  Status DeleteObject(const std::string& key);

 private:
  class Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::op::s3
