#include "server/auth/simple_tokens.h"

#include <openssl/rand.h>

#include "server/common/status.h"

namespace cairn::auth {

std::string SimpleTokens::NewPrefix() {
  constexpr int kLength = 16;
  static constexpr char kLetters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  unsigned char random[kLength];
  CAIRN_CHECK(RAND_bytes(random, kLength) == 1);
  std::string prefix;
  // 256 is not a multiple of 52: the first letters are a little likelier, which costs
  // well under a bit of the token's 91 bits.
  for (unsigned char r : random) prefix += kLetters[r % (sizeof(kLetters) - 1)];
  return prefix;
}

std::string SimpleTokens::TokenFor(const std::string& prefix, uint64_t index) {
  return prefix + "." + std::to_string(index);
}

void SimpleTokens::DropExpiredLocked(std::chrono::steady_clock::time_point now) {
  if (now < next_sweep_) return;
  std::erase_if(tokens_, [&](const auto& item) { return item.second.expires <= now; });
  next_sweep_ = now + ttl_;
}

Result<std::string> SimpleTokens::Assign(const std::string& user, uint64_t, const std::string& prefix,
                                         uint64_t index) {
  std::string token = TokenFor(prefix, index);
  const auto now = clock_();
  std::lock_guard lock(mu_);
  DropExpiredLocked(now);
  tokens_[token] = Entry{user, now + ttl_};
  return token;
}

std::optional<AuthInfo> SimpleTokens::Info(const std::string& token, uint64_t current_revision) {
  auto user = Lookup(token);
  if (!user) return std::nullopt;
  return AuthInfo{std::move(*user), current_revision};
}

std::optional<std::string> SimpleTokens::Lookup(const std::string& token) {
  const auto now = clock_();
  std::lock_guard lock(mu_);
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return std::nullopt;
  if (it->second.expires <= now) {
    tokens_.erase(it);
    return std::nullopt;
  }
  it->second.expires = now + ttl_;
  return it->second.user;
}

void SimpleTokens::InvalidateUser(const std::string& user) {
  std::lock_guard lock(mu_);
  std::erase_if(tokens_, [&](const auto& item) { return item.second.user == user; });
}

void SimpleTokens::InvalidateAll() {
  std::lock_guard lock(mu_);
  tokens_.clear();
}

}  // namespace cairn::auth
