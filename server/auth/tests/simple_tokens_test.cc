#include "server/auth/simple_tokens.h"

#include <gtest/gtest.h>

namespace cairn::auth {
namespace {

using namespace std::chrono_literals;

class SimpleTokensTest : public ::testing::Test {
 protected:
  std::chrono::steady_clock::time_point now_{};
  SimpleTokens tokens_{10s, [this] { return now_; }};
};

TEST_F(SimpleTokensTest, PrefixesAreRandomLetters) {
  const std::string a = SimpleTokens::NewPrefix();
  EXPECT_EQ(a.size(), 16u);
  for (char c : a) EXPECT_TRUE(std::isalpha(static_cast<unsigned char>(c))) << a;
  EXPECT_NE(a, SimpleTokens::NewPrefix());
  EXPECT_EQ(SimpleTokens::TokenFor("abc", 42), "abc.42");
}

TEST_F(SimpleTokensTest, TokenExpiresAfterTtlUnused) {
  ASSERT_EQ(tokens_.Assign("alice", 5, "t", 1).value(), "t.1");
  now_ += 9s;
  EXPECT_EQ(tokens_.Lookup("t.1"), "alice");
  now_ += 9s;  // 18 s after assignment, 9 s after the last use
  EXPECT_EQ(tokens_.Lookup("t.1"), "alice");
  now_ += 10s;
  EXPECT_EQ(tokens_.Lookup("t.1"), std::nullopt);
  EXPECT_EQ(tokens_.Lookup("never"), std::nullopt);
}

TEST_F(SimpleTokensTest, InvalidateUserDropsOnlyThatUsersTokens) {
  ASSERT_TRUE(tokens_.Assign("alice", 5, "a", 1).ok());
  ASSERT_TRUE(tokens_.Assign("alice", 5, "a", 2).ok());
  ASSERT_TRUE(tokens_.Assign("bob", 5, "b", 3).ok());
  tokens_.InvalidateUser("alice");
  EXPECT_EQ(tokens_.Lookup("a.1"), std::nullopt);
  EXPECT_EQ(tokens_.Lookup("a.2"), std::nullopt);
  EXPECT_EQ(tokens_.Lookup("b.3"), "bob");
  // A simple token is as fresh as the store: it carries no revision of its own.
  EXPECT_EQ(tokens_.Info("b.3", 9)->revision, 9u);
  tokens_.InvalidateAll();
  EXPECT_EQ(tokens_.Lookup("b.3"), std::nullopt);
}

}  // namespace
}  // namespace cairn::auth
