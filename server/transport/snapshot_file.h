// Snapshot files on the wire: a writer that checks the sender's SHA-256 and makes the
// file durable, and a reader that produces the chunks and the digest.
// Thread-safety: thread-compatible (one stream each).
#pragma once

#include <openssl/evp.h>

#include <cstdio>
#include <memory>
#include <string>

#include "server/common/status.h"

namespace cairn::transport {

inline constexpr size_t kSnapshotChunkBytes = 1 << 20;

class Sha256 {
 public:
  Sha256();
  void Update(const std::string& data);
  std::string Digest();

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

class SnapshotFileWriter {
 public:
  // Truncates or creates `path`.
  explicit SnapshotFileWriter(std::string path);
  ~SnapshotFileWriter();
  bool ok() const { return file_ != nullptr; }
  bool Append(const std::string& data);
  // DataLoss when the digest is missing or does not match what was written (the file is
  // then removed); otherwise the file is fsync'ed and closed.
  Status Finish(const std::string& expected_sha256);

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  Sha256 sha_;
};

}  // namespace cairn::transport
