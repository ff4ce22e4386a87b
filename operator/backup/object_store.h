// ObjectStore: where backup objects live, behind one interface so the backup run does
// not care: S3-compatible object storage (s3/client.h), or a directory (a mounted
// PersistentVolumeClaim, and tests).
//
// Put streams from a reader and is all-or-nothing: the object appears under its key only
// once every byte is stored (S3: a completed upload; a directory: a rename after fsync),
// so a crash mid-upload never leaves an object that looks complete. Get streams to a
// writer and reports the SHA-256 of what it handed over, for the caller to compare with
// the recorded one. Keys are '/'-separated relative names.
// Thread-safety: implementations may be used from several threads at once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "operator/backup/compression.h"
#include "operator/s3/client.h"
#include "server/common/status.h"

namespace cairn::op::backup {

struct StoredObject {
  std::string key;
  uint64_t size = 0;
  std::string sha256;  // lowercase hex of the stored bytes
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  // Where `key` is, for status and logs: s3://bucket/key or file:///dir/key.
  virtual std::string Url(const std::string& key) const = 0;
  virtual Result<StoredObject> Put(const std::string& key, const ByteReader& read) = 0;
  virtual Result<StoredObject> Get(const std::string& key, const ByteWriter& write) = 0;
  // Keys under `prefix`, in byte order.
  virtual Result<std::vector<std::string>> List(const std::string& prefix) = 0;
  // OK for a key that does not exist.
  virtual Status Delete(const std::string& key) = 0;
};

std::unique_ptr<ObjectStore> NewS3Store(std::unique_ptr<s3::Client> client, std::string bucket);
// REQUIRES: root is an existing directory.
std::unique_ptr<ObjectStore> NewDirectoryStore(std::string root);

}  // namespace cairn::op::backup
