// SimpleTokens: etcd's "simple" auth tokens — random strings that name a user, kept in
// this member's memory only (a restart invalidates them all), each alive until it goes
// unused for the TTL (every use restarts its clock, as etcd's TTL keeper does).
//
// A token is "<16 random letters>.<index>", the index being the Raft index of the
// Authenticate entry that registered it (etcd's form). Every member registers the tokens
// of applied Authenticate entries, so a token works on every member that applied it.
// Thread-safety: thread-safe (mu_ guards tokens_). Expired tokens are dropped lazily,
// when looked up and on each Assign.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "server/auth/token_provider.h"

namespace cairn::auth {

class SimpleTokens final : public TokenProvider {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  SimpleTokens(std::chrono::seconds ttl, Clock clock) : ttl_(ttl), clock_(std::move(clock)) {}

  // A fresh random prefix (16 letters, from the OS's randomness).
  static std::string NewPrefix();
  static std::string TokenFor(const std::string& prefix, uint64_t index);

  // TokenProvider: the token is TokenFor(prefix, index), for `user`.
  Result<std::string> Assign(const std::string& user, uint64_t revision, const std::string& prefix,
                             uint64_t index) override;
  // Restarts the token's TTL.
  std::optional<AuthInfo> Info(const std::string& token, uint64_t current_revision) override;
  void InvalidateUser(const std::string& user) override;
  void InvalidateAll() override;

  // The token's user, restarting its TTL; nullopt if unknown or expired.
  std::optional<std::string> Lookup(const std::string& token);

 private:
  struct Entry {
    std::string user;
    std::chrono::steady_clock::time_point expires;
  };
  void DropExpiredLocked(std::chrono::steady_clock::time_point now);

  const std::chrono::seconds ttl_;
  const Clock clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> tokens_;  // guarded by mu_
  std::chrono::steady_clock::time_point next_sweep_;  // guarded by mu_
};

}  // namespace cairn::auth
