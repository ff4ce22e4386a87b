// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI, ext4 and etcd.
//
// Software slicing-by-8; no CPU feature detection. Values compose:
// Value(a + b) == Extend(Value(a), b). Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cairn::crc32c {

// Returns the CRC of (the data `crc` was computed over) followed by data[0, n).
uint32_t Extend(uint32_t crc, const void* data, size_t n);

inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::string_view s) { return Value(s.data(), s.size()); }

}  // namespace cairn::crc32c
