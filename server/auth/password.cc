#include "server/auth/password.h"

#include <crypt.h>
#include <openssl/crypto.h>

#include <memory>

namespace cairn::auth {

Result<std::string> HashPassword(const std::string& password, int cost) {
  CAIRN_CHECK(cost >= kMinBcryptCost && cost <= kMaxBcryptCost);
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  // No random bytes given: libxcrypt draws them from the OS.
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0, salt, sizeof(salt)) == nullptr) {
    return Status::Internal("bcrypt: cannot make a salt");
  }
  auto data = std::make_unique<crypt_data>();
  const char* hashed = crypt_r(password.c_str(), salt, data.get());
  // libxcrypt reports failure with a hash starting with '*' (or NULL on some builds).
  if (hashed == nullptr || hashed[0] == '*') return Status::Internal("bcrypt: hashing failed");
  return std::string(hashed);
}

bool PasswordMatches(const std::string& hash, const std::string& password) {
  if (hash.empty() || hash[0] != '$') return false;
  auto data = std::make_unique<crypt_data>();
  const char* computed = crypt_r(password.c_str(), hash.c_str(), data.get());
  if (computed == nullptr || computed[0] == '*') return false;
  const std::string result(computed);
  return result.size() == hash.size() && CRYPTO_memcmp(result.data(), hash.data(), hash.size()) == 0;
}

}  // namespace cairn::auth
