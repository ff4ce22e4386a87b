// SnapshotStream: one member's Maintenance.Snapshot, read as bytes. What it yields is
// exactly the file `etcdctl snapshot save` writes: the store followed by its SHA-256
// (32 bytes, the stream's last message), so a backup object restores with
// `cairn snapshot restore` / `etcdutl snapshot restore` unchanged.
//
// The trailer is verified while the bytes pass through (SnapshotDigest): the last Read
// returns 0 only if the stream ended with the SHA-256 of everything before it, so a
// truncated or damaged stream ends in kDataLoss and an upload built on it is abandoned.
// Thread-safety: one reader thread; Cancel() may be called from any thread.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <string>

#include "server/common/status.h"

namespace cairn::op {

// Running SHA-256 of a stream whose last 32 bytes are the digest of the rest.
class SnapshotDigest {
 public:
  static constexpr size_t kTrailerBytes = 32;
  SnapshotDigest();
  ~SnapshotDigest();
  SnapshotDigest(const SnapshotDigest&) = delete;
  SnapshotDigest& operator=(const SnapshotDigest&) = delete;

  void Add(const char* data, size_t n);
  // kDataLoss unless the bytes seen end with the SHA-256 of the ones before.
  Status Finish();
  std::string store_sha256_hex() const { return hex_; }  // after a successful Finish
  uint64_t store_bytes() const { return hashed_; }

 private:
  EVP_MD_CTX* ctx_;
  std::string tail_;  // the last (up to) 32 bytes seen: not hashed yet
  uint64_t hashed_ = 0;
  std::string hex_;
};

class SnapshotStream {
 public:
  virtual ~SnapshotStream() = default;
  // Up to cap bytes; 0 at the end once the trailer matched. Errors: the member's (as
  // gRPC codes), kDataLoss for a trailer that does not match.
  virtual Result<size_t> Read(char* buf, size_t cap) = 0;
  // The store revision the snapshot holds (the first response's header); 0 before the
  // first Read, and from members that send no header (etcd 3.4).
  virtual int64_t revision() const = 0;
  virtual uint64_t member_id() const = 0;
  virtual const SnapshotDigest& digest() const = 0;
  virtual void Cancel() = 0;
};

}  // namespace cairn::op
