// JwtTokens: etcd's "jwt" auth tokens — JSON Web Tokens signed with the member's private
// key (RS256/384/512, PS256/384/512 or ES256/384/512, OpenSSL) whose claims are
// {"username", "revision", "exp"}, the claims etcd's tokens carry, so tokens from an etcd
// member with the same keys verify here and the other way round. Nothing is kept per
// token: any member with the public key accepts a token until it expires, and a token
// issued before the auth store changed fails the revision check (ErrAuthOldRevision),
// so clients authenticate again, as with etcd.
// Thread-safety: immutable after Create(); OpenSSL contexts are made per call.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "server/auth/token_provider.h"

namespace cairn::auth {

class JwtTokens final : public TokenProvider {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  // Reads the PEM keys (the private one may be omitted: then this member only verifies).
  static Result<std::unique_ptr<JwtTokens>> Create(const std::string& sign_method, const std::string& public_key_file,
                                                   const std::string& private_key_file, std::chrono::seconds ttl,
                                                   Clock clock);
  ~JwtTokens() override;

  Result<std::string> Assign(const std::string& user, uint64_t revision, const std::string& prefix,
                             uint64_t index) override;
  std::optional<AuthInfo> Info(const std::string& token, uint64_t current_revision) override;
  void InvalidateUser(const std::string&) override {}
  void InvalidateAll() override {}

 private:
  struct Keys;
  JwtTokens(std::string sign_method, std::unique_ptr<Keys> keys, std::chrono::seconds ttl, Clock clock);

  const std::string sign_method_;
  const std::unique_ptr<Keys> keys_;
  const std::chrono::seconds ttl_;
  const Clock clock_;
};

// Base64url without padding (RFC 7515), as JWTs use it.
std::string Base64UrlEncode(const std::string& bytes);
Result<std::string> Base64UrlDecode(const std::string& text);

}  // namespace cairn::auth
