// Flags Cairn does not implement: ignored ones warn, refused ones fail (unless left at
// etcd's default), unknown ones fail.
#include "server/config/tests/test_util.h"

namespace cairn::config::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

TEST(UnsupportedFlagsTest, IgnoredFlagsWarnNamingTheFlag) {
  auto r = Load({"--logger=zap", "--log-outputs=stderr", "--enable-log-rotation",
                 "--log-rotation-config-json={}", "--enable-pprof", "--metrics=extensive",
                 "--cors=*", "--host-whitelist=*",
                 "--experimental-compaction-batch-limit=500", "--backend-batch-interval=10ms"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  for (const char* flag :
       {"--logger", "--log-outputs", "--enable-log-rotation", "--log-rotation-config-json",
        "--enable-pprof", "--metrics", "--cors", "--host-whitelist",
        "--experimental-compaction-batch-limit", "--backend-batch-interval"}) {
    EXPECT_THAT(r->warnings, Contains("cairn: flag " + std::string(flag) +
                                      " is accepted but ignored (not implemented by Cairn yet)"))
        << flag;
  }
  // Ignored settings that have a field are still recorded for later milestones.
  EXPECT_TRUE(r->config.enable_pprof);
  EXPECT_EQ(r->config.metrics, "extensive");
}

TEST(UnsupportedFlagsTest, IgnoredFlagsAreStillTypeChecked) {
  EXPECT_THAT(LoadError({"--enable-pprof=maybe"}),
              HasSubstr("invalid value \"maybe\" for flag --enable-pprof"));
  EXPECT_THAT(LoadError({"--metrics=everything"}),
              HasSubstr("valid values are \"basic\", \"extensive\""));
  EXPECT_THAT(LoadError({"--backend-batch-interval=soon"}), HasSubstr("invalid duration"));
}

TEST(UnsupportedFlagsTest, RefusedFlagsFail) {
  for (const char* arg :
       {"--discovery=https://discovery.etcd.io/abc", "--discovery-srv=example.com", "--proxy=on",
        "--enable-v2", "--experimental-enable-v2v3=/v2",
        "--force-new-cluster", "--unsafe-no-fsync", "--discovery-endpoints=http://x:2379",
        "--experimental-enable-lease-checkpoint",
        // TLS settings Cairn does not implement: serving with other security than asked
        // for would be worse than not starting.
        "--client-cert-file=/c.crt", "--client-key-file=/c.key", "--peer-client-cert-file=/p.crt",
        "--peer-client-key-file=/p.key", "--tls-min-version=TLS1.3", "--tls-max-version=TLS1.2"}) {
    const std::string flag = std::string(arg).substr(0, std::string(arg).find('='));
    EXPECT_EQ(LoadError({arg}),
              "cairn: flag " + flag + " is not supported yet (ignoring it would change behaviour)")
        << arg;
  }
}

TEST(UnsupportedFlagsTest, RefusedFlagsAtTheirDefaultAreHarmless) {
  auto r = Load({"--enable-v2=false", "--proxy=off", "--auth-token=simple",
                 "--force-new-cluster=false", "--discovery=", "--discovery-fallback=proxy",
                 "--tls-min-version=TLS1.2", "--tls-max-version=", "--cipher-suites="});
  ASSERT_TRUE(r.ok()) << r.status().message();
}

TEST(UnsupportedFlagsTest, TuningKnobsOfRefusedFeaturesOnlyWarn) {
  // Without --discovery / --proxy these change nothing, so they are not refused.
  auto r = Load({"--discovery-fallback=exit", "--proxy-dial-timeout=2000"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(r->warnings,
              Contains(HasSubstr("flag --discovery-fallback is accepted but ignored")));
  EXPECT_THAT(r->warnings,
              Contains(HasSubstr("flag --proxy-dial-timeout is accepted but ignored")));
}

TEST(UnsupportedFlagsTest, UnknownFlagIsAnErrorMentioningHelp) {
  const std::string err = LoadError({"--foo"});
  EXPECT_THAT(err, HasSubstr("cairn: unknown flag --foo"));
  EXPECT_THAT(err, HasSubstr("--help"));
  EXPECT_THAT(LoadError({"-foo=bar"}), HasSubstr("unknown flag --foo"));
}

TEST(UnsupportedFlagsTest, LegacyFlagsAreSwallowedWithWarningAsEtcdDoes) {
  auto r = Load({"-v", "--peer-election-timeout=5"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(r->warnings, Contains(HasSubstr("flag --v is accepted but ignored")));
}

TEST(UnsupportedFlagsTest, PlannedFlagsAreStoredWithoutWarning) {
  auto r = Load({"--data-dir=/d", "--cert-file=/c.crt", "--key-file=/c.key", "--trusted-ca-file=/ca",
                 "--client-cert-auth", "--peer-cert-file=/p.crt", "--peer-key-file=/p.key",
                 "--peer-auto-tls", "--snapshot-count=1000",
                 "--peer-cert-allowed-cn=peer", "--experimental-peer-skip-client-san-verification"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->warnings.empty()) << r->warnings.at(0);
  const ServerConfig& c = r->config;
  EXPECT_EQ(c.client_tls.cert_file, "/c.crt");
  EXPECT_EQ(c.client_tls.key_file, "/c.key");
  EXPECT_EQ(c.client_tls.trusted_ca_file, "/ca");
  EXPECT_TRUE(c.client_tls.client_cert_auth);
  EXPECT_EQ(c.peer_tls.cert_file, "/p.crt");
  EXPECT_TRUE(c.peer_tls.auto_tls);
  EXPECT_EQ(c.peer_tls.allowed_cns, std::vector<std::string>{"peer"});
  EXPECT_EQ(c.snapshot_count, 1000u);
}

}  // namespace
}  // namespace cairn::config::testing
