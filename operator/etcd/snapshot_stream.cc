#include "operator/etcd/snapshot_stream.h"

#include <algorithm>
#include <cstring>

namespace cairn::op {

SnapshotDigest::SnapshotDigest() : ctx_(EVP_MD_CTX_new()) {
  CAIRN_CHECK(ctx_ != nullptr && EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) == 1);
}

SnapshotDigest::~SnapshotDigest() { EVP_MD_CTX_free(ctx_); }

void SnapshotDigest::Add(const char* data, size_t n) {
  // Everything but the newest 32 bytes can be hashed now: only those may be the trailer.
  if (tail_.size() + n <= kTrailerBytes) {
    tail_.append(data, n);
    return;
  }
  const size_t release = tail_.size() + n - kTrailerBytes;
  const size_t from_tail = std::min(release, tail_.size());
  CAIRN_CHECK(EVP_DigestUpdate(ctx_, tail_.data(), from_tail) == 1);
  tail_.erase(0, from_tail);
  const size_t from_data = release - from_tail;
  CAIRN_CHECK(EVP_DigestUpdate(ctx_, data, from_data) == 1);
  tail_.append(data + from_data, n - from_data);
  hashed_ += release;
}

Status SnapshotDigest::Finish() {
  if (tail_.size() < kTrailerBytes) return Status::DataLoss("snapshot stream ended before its SHA-256 trailer");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  CAIRN_CHECK(EVP_DigestFinal_ex(ctx_, digest, &len) == 1 && len == kTrailerBytes);
  if (std::memcmp(digest, tail_.data(), kTrailerBytes) != 0) {
    return Status::DataLoss("snapshot stream's SHA-256 trailer does not match its " + std::to_string(hashed_) +
                            " bytes");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  hex_.clear();
  for (unsigned int i = 0; i < len; ++i) {
    hex_ += kHex[digest[i] >> 4];
    hex_ += kHex[digest[i] & 15];
  }
  return Status::Ok();
}

}  // namespace cairn::op
