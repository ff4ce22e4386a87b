// CRC32C (Castagnoli, the polynomial etcd's hashes use) and little-endian field
// encoding for HashKV. Pure functions and a value type; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "server/common/crc32c.h"

namespace cairn::mvcc {

// Incremental CRC32C over a stream of fields, on the shared implementation.
class Crc32c {
 public:
  void Update(std::string_view data) { crc_ = crc32c::Extend(crc_, data.data(), data.size()); }
  uint32_t value() const { return crc_; }

 private:
  uint32_t crc_ = 0;
};

inline void AppendU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
inline void AppendU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

}  // namespace cairn::mvcc
