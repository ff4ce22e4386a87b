// Password hashing for the auth store: bcrypt ("$2b$", etcd's algorithm) through
// libxcrypt's crypt_r, so hashes etcd wrote ("$2a$") verify too.
// Thread-safety: pure functions; each call uses its own crypt_data.
#pragma once

#include <string>

#include "server/common/status.h"

namespace cairn::auth {

// etcd's --bcrypt-cost range (bcrypt's own: 4..31).
inline constexpr int kMinBcryptCost = 4;
inline constexpr int kMaxBcryptCost = 31;

// A fresh salt from the OS's randomness and the bcrypt hash of `password` with it.
// REQUIRES: kMinBcryptCost <= cost <= kMaxBcryptCost.
Result<std::string> HashPassword(const std::string& password, int cost);

// Whether `password` hashes to `hash`. False for an empty or malformed hash.
bool PasswordMatches(const std::string& hash, const std::string& password);

}  // namespace cairn::auth
