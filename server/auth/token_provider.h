// TokenProvider: what --auth-token selects — how Authenticate's tokens are made and how a
// request's token is turned back into its user (etcd's TokenProvider).
//   simple  random strings kept in each member's memory (simple_tokens.h)
//   jwt     signed JSON Web Tokens that carry the user and the auth revision they were
//           issued at, verified by signature and expiry alone (jwt_tokens.h)
// Tokens are assigned when an Authenticate entry applies, on every member, from the
// random prefix the proposing member chose and the entry's index (the simple token's
// name) or from the user and the auth revision (the JWT's claims).
// Thread-safety: implementations are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "server/auth/auth_store.h"
#include "server/common/status.h"

namespace cairn::auth {

class TokenProvider {
 public:
  virtual ~TokenProvider() = default;

  virtual Result<std::string> Assign(const std::string& user, uint64_t revision, const std::string& prefix,
                                     uint64_t index) = 0;
  // The token's user and auth revision, or nullopt for a token that is unknown, expired
  // or forged. `current_revision` is the store's: a simple token is as fresh as the store.
  virtual std::optional<AuthInfo> Info(const std::string& token, uint64_t current_revision) = 0;
  // Tokens of a deleted user or one whose password changed, and all tokens when auth is
  // disabled, stop working (a JWT instead fails the revision check: the store moved).
  virtual void InvalidateUser(const std::string& user) = 0;
  virtual void InvalidateAll() = 0;
};

// Parses --auth-token: "simple", or "jwt,pub-key=FILE,priv-key=FILE,sign-method=ALG[,ttl=DURATION]"
// (etcd's syntax; ALG one of RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512, ttl
// default 5m). `simple_ttl` is --auth-token-ttl. Errors name the bad option.
Result<std::unique_ptr<TokenProvider>> NewTokenProvider(const std::string& spec, std::chrono::seconds simple_ttl);

}  // namespace cairn::auth
