#include "server/auth/password.h"

#include <gtest/gtest.h>

namespace cairn::auth {
namespace {

TEST(PasswordTest, HashVerifiesOnlyTheSamePassword) {
  auto hash = HashPassword("s3cret", kMinBcryptCost);
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_TRUE(hash->starts_with("$2b$04$"));
  EXPECT_TRUE(PasswordMatches(*hash, "s3cret"));
  EXPECT_FALSE(PasswordMatches(*hash, "s3cre"));
  EXPECT_FALSE(PasswordMatches(*hash, ""));
}

TEST(PasswordTest, SaltsDiffer) {
  auto a = HashPassword("pw", kMinBcryptCost);
  auto b = HashPassword("pw", kMinBcryptCost);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

TEST(PasswordTest, EmptyOrMalformedHashNeverMatches) {
  EXPECT_FALSE(PasswordMatches("", ""));
  EXPECT_FALSE(PasswordMatches("plain", "plain"));
  EXPECT_FALSE(PasswordMatches("$2b$04$short", "x"));
}

}  // namespace
}  // namespace cairn::auth
