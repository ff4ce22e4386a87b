#include "server/auth/jwt_tokens.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>

#include "server/common/test_dir.h"

namespace cairn::auth {
namespace {

using namespace std::chrono_literals;

// Writes a fresh key pair as PEM files: {private, public}.
std::pair<std::string, std::string> WriteKeys(const TempDir& dir, const std::string& name, bool ec) {
  EVP_PKEY* key = ec ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
  CAIRN_CHECK(key != nullptr);
  const std::string priv = dir.Join(name + ".key"), pub = dir.Join(name + ".pub");
  FILE* f = std::fopen(priv.c_str(), "w");
  CAIRN_CHECK(PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  std::fclose(f);
  f = std::fopen(pub.c_str(), "w");
  CAIRN_CHECK(PEM_write_PUBKEY(f, key) == 1);
  std::fclose(f);
  EVP_PKEY_free(key);
  return {priv, pub};
}

class JwtTokensTest : public ::testing::TestWithParam<std::string> {
 protected:
  bool Ec() const { return GetParam().starts_with("ES"); }
  std::unique_ptr<JwtTokens> Make(const std::string& priv, const std::string& pub) {
    auto t = JwtTokens::Create(GetParam(), pub, priv, 300s, [this] { return now_; });
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? std::move(t.value()) : nullptr;
  }

  TempDir dir_;
  std::chrono::system_clock::time_point now_ = std::chrono::system_clock::now();
};

TEST_P(JwtTokensTest, TokensCarryUserAndRevisionAndAreVerifiedBySignatureAndExpiry) {
  auto [priv, pub] = WriteKeys(dir_, "k", Ec());
  auto tokens = Make(priv, pub);
  ASSERT_NE(tokens, nullptr);
  auto token = tokens->Assign("alice", 7, "ignored", 1);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto info = tokens->Info(*token, 99);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->user, "alice");
  EXPECT_EQ(info->revision, 7u);  // the revision it was issued at, not the store's

  const size_t dot = token->find('.');
  auto header = Base64UrlDecode(token->substr(0, dot));
  ASSERT_TRUE(header.ok());
  EXPECT_NE(header->find("\"alg\":\"" + GetParam() + "\""), std::string::npos) << *header;

  // Claims changed after signing: refused.
  const size_t second = token->find('.', dot + 1);
  const std::string forged_claims = Base64UrlEncode("{\"exp\":99999999999,\"revision\":7,\"username\":\"root\"}");
  EXPECT_FALSE(tokens->Info(token->substr(0, dot + 1) + forged_claims + token->substr(second), 7).has_value());
  // Unsigned ("alg":"none") tokens are refused whatever they claim.
  EXPECT_FALSE(tokens->Info(Base64UrlEncode("{\"alg\":\"none\"}") + "." + forged_claims + ".", 7).has_value());
  EXPECT_FALSE(tokens->Info("not-a-jwt", 7).has_value());

  // Another key pair's tokens do not verify.
  auto [other_priv, other_pub] = WriteKeys(dir_, "other", Ec());
  auto other = Make(other_priv, other_pub);
  ASSERT_NE(other, nullptr);
  EXPECT_FALSE(tokens->Info(*other->Assign("alice", 7, "", 1), 7).has_value());

  now_ += 301s;
  EXPECT_FALSE(tokens->Info(*token, 7).has_value());
}

TEST_P(JwtTokensTest, AMemberWithOnlyThePublicKeyVerifiesButCannotSign) {
  auto [priv, pub] = WriteKeys(dir_, "k", Ec());
  auto signer = Make(priv, pub);
  auto verifier = Make("", pub);
  ASSERT_NE(signer, nullptr);
  ASSERT_NE(verifier, nullptr);
  EXPECT_EQ(verifier->Info(*signer->Assign("bob", 3, "", 1), 3)->user, "bob");
  EXPECT_FALSE(verifier->Assign("bob", 3, "", 1).ok());
}

INSTANTIATE_TEST_SUITE_P(SignMethods, JwtTokensTest, ::testing::Values("RS256", "PS384", "ES256"));

TEST(Base64UrlTest, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    bytes.push_back(static_cast<char>(i * 37 + 250));
    const std::string encoded = Base64UrlEncode(bytes);
    EXPECT_EQ(encoded.find_first_of("+/="), std::string::npos);
    EXPECT_EQ(Base64UrlDecode(encoded).value(), bytes);
  }
  EXPECT_FALSE(Base64UrlDecode("a").ok());
  EXPECT_FALSE(Base64UrlDecode("ab+/").ok());
}

TEST(TokenProviderTest, ParsesEtcdsAuthTokenSyntax) {
  TempDir dir;
  auto [priv, pub] = WriteKeys(dir, "k", false);
  EXPECT_TRUE(NewTokenProvider("simple", 300s).ok());
  auto jwt = NewTokenProvider("jwt,pub-key=" + pub + ",priv-key=" + priv + ",sign-method=RS256,ttl=10m", 300s);
  ASSERT_TRUE(jwt.ok()) << jwt.status().ToString();
  EXPECT_EQ((*jwt)->Info(*(*jwt)->Assign("u", 2, "", 1), 2)->user, "u");
  EXPECT_FALSE(NewTokenProvider("opaque", 300s).ok());
  EXPECT_FALSE(NewTokenProvider("jwt,pub-key=" + pub + ",sign-method=HS999", 300s).ok());
  EXPECT_FALSE(NewTokenProvider("jwt,pub-key=" + pub + ",sign-method=ES256", 300s).ok());  // an RSA key
  EXPECT_FALSE(NewTokenProvider("jwt,pub-key=/nonexistent,sign-method=RS256", 300s).ok());
  EXPECT_FALSE(NewTokenProvider("jwt,pub-key=" + pub + ",sign-method=RS256,ttl=forever", 300s).ok());
  EXPECT_FALSE(NewTokenProvider("jwt,pub-key=" + pub + ",sign-method=RS256,colour=blue", 300s).ok());
}

}  // namespace
}  // namespace cairn::auth
