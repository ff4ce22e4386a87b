// --cipher-suites: etcd's Go names become OpenSSL's, in order; an unknown name is
// refused with etcd's message, at flag parsing, before anything starts.
#include "server/config/cipher_suites.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/config/load_config.h"

namespace cairn::config {
namespace {

using ::testing::HasSubstr;

TEST(CipherSuitesTest, GoNamesBecomeAnOpenSslListInOrder) {
  auto list = OpenSslCipherList({"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
                                 "TLS_RSA_WITH_AES_256_GCM_SHA384"});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(*list, "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:AES256-GCM-SHA384");
  EXPECT_EQ(OpenSslCipherList({}).value(), "");
}

TEST(CipherSuitesTest, AnUnknownNameIsRefusedWithEtcdsMessage) {
  auto list = OpenSslCipherList({"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"});
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().message(), "unexpected TLS cipher suite \"ECDHE-RSA-AES128-GCM-SHA256\"");
}

TEST(CipherSuitesTest, TheFlagIsParsedAndChecked) {
  auto cfg = LoadConfig({"--cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}, {});
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->config.cipher_suites,
            (std::vector<std::string>{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}));
  auto refused = LoadConfig({"--cipher-suites=TLS_NULL"}, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("unexpected TLS cipher suite \"TLS_NULL\""));
}

}  // namespace
}  // namespace cairn::config
