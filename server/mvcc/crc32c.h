// CRC32C (Castagnoli, the polynomial etcd's hashes use) and little-endian field
// encoding for HashKV. Pure functions and a value type; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace cairn::mvcc {

class Crc32c {
 public:
  void Update(std::string_view data) {
    static const std::array<uint32_t, 256> kTable = MakeTable();
    for (unsigned char c : data) crc_ = kTable[(crc_ ^ c) & 0xff] ^ (crc_ >> 8);
  }
  uint32_t value() const { return ~crc_; }

 private:
  static std::array<uint32_t, 256> MakeTable() {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }
  uint32_t crc_ = ~0u;
};

inline void AppendU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
inline void AppendU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

}  // namespace cairn::mvcc
