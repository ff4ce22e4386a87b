// Properties of the flag registry table itself.
#include "server/config/flag_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

namespace cairn::config {
namespace {

TEST(FlagRegistryTest, NamesAndConfigFileKeysAreUnique) {
  std::set<std::string_view> names;
  std::set<std::string> keys;
  for (const FlagSpec& f : AllFlags()) {
    EXPECT_TRUE(names.insert(f.name).second) << f.name;
    const std::string key = YamlKeyOf(f);
    if (!key.empty()) {
      EXPECT_TRUE(keys.insert(key).second) << key;
    }
  }
}

TEST(FlagRegistryTest, EveryDefaultIsAValidValueAndLeavesDefaultsUnchanged) {
  // Keeps the table's documented defaults and ServerConfig's initializers in agreement.
  for (const FlagSpec& f : AllFlags()) {
    if (f.name == "data-dir" || f.kind == FlagKind::kLegacy)
      continue;  // "${name}.etcd" is a template
    ServerConfig c;
    if (f.kind == FlagKind::kDuration && f.default_value.empty()) continue;
    Status s = f.apply(c, f.default_value);
    EXPECT_TRUE(s.ok()) << f.name << ": " << s.message();
    ServerConfig fresh;
    EXPECT_EQ(UrlListString(c.listen_client_urls), UrlListString(fresh.listen_client_urls))
        << f.name;
    EXPECT_EQ(c.initial_cluster, fresh.initial_cluster) << f.name;
    EXPECT_EQ(c.max_txn_ops, fresh.max_txn_ops) << f.name;
    EXPECT_EQ(c.grpc_keepalive_interval, fresh.grpc_keepalive_interval) << f.name;
    EXPECT_EQ(c.experimental_watch_progress_notify_interval,
              fresh.experimental_watch_progress_notify_interval)
        << f.name;
    EXPECT_EQ(c.metrics, fresh.metrics) << f.name;
    EXPECT_EQ(c.pre_vote, fresh.pre_vote) << f.name;
    EXPECT_EQ(c.snapshot_count, fresh.snapshot_count) << f.name;
    EXPECT_EQ(c.max_request_bytes, fresh.max_request_bytes) << f.name;
    EXPECT_EQ(c.quota_backend_bytes, fresh.quota_backend_bytes) << f.name;
  }
}

TEST(FlagRegistryTest, LookupsAndEnvNames) {
  ASSERT_NE(FindFlag("data-dir"), nullptr);
  EXPECT_EQ(FindFlag("nope"), nullptr);
  EXPECT_EQ(FindFlagByYamlKey("client-transport-security.cert-file"), FindFlag("cert-file"));
  EXPECT_EQ(FindFlagByYamlKey("cert-file"), nullptr);
  EXPECT_EQ(FlagToEnv("data-dir"), "ETCD_DATA_DIR");
  EXPECT_EQ(FlagToEnv("experimental-watch-progress-notify-interval"),
            "ETCD_EXPERIMENTAL_WATCH_PROGRESS_NOTIFY_INTERVAL");
}

TEST(FlagRegistryTest, ClassificationOfKeyFlags) {
  EXPECT_EQ(FindFlag("discovery")->disposition, Disposition::kRefused);
  EXPECT_EQ(FindFlag("force-new-cluster")->disposition, Disposition::kRefused);
  EXPECT_EQ(FindFlag("enable-pprof")->disposition, Disposition::kIgnored);
  EXPECT_EQ(FindFlag("logger")->disposition, Disposition::kIgnored);
  EXPECT_EQ(FindFlag("initial-cluster")->disposition, Disposition::kImplemented);
  EXPECT_EQ(FindFlag("peer-trusted-ca-file")->disposition, Disposition::kImplemented);
}

}  // namespace
}  // namespace cairn::config
