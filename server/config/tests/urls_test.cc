// URL parsing with etcd's types.NewURLs rules and wording.
#include "server/config/urls.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cairn::config {
namespace {

using ::testing::HasSubstr;

TEST(UrlsTest, ParsesSchemesHostsAndPorts) {
  auto u = ParseUrl(" http://10.0.0.1:2379 ");
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "10.0.0.1");
  EXPECT_EQ(u->port, "2379");
  auto v6 = ParseUrl("https://[::1]:2380");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->String(), "https://[::1]:2380");
  auto sock = ParseUrl("unix://localhost:2379");
  ASSERT_TRUE(sock.ok());
  EXPECT_EQ(sock->String(), "unix://localhost:2379");
  auto path_sock = ParseUrl("unixs:///run/cairn.sock");
  ASSERT_TRUE(path_sock.ok());
  EXPECT_EQ(path_sock->host, "/run/cairn.sock");
  auto short_sock = ParseUrl("unix:/run/cairn.sock");
  ASSERT_TRUE(short_sock.ok());
  EXPECT_EQ(short_sock->scheme, "unix");
  EXPECT_EQ(short_sock->host, "/run/cairn.sock");
}

TEST(UrlsTest, RejectsWithEtcdWording) {
  EXPECT_EQ(ParseUrl("localhost:2379").status().message(),
            "URL scheme must be http, https, unix, or unixs: localhost:2379");
  EXPECT_EQ(ParseUrl("http://localhost").status().message(),
            "URL address does not have the form \"host:port\": http://localhost");
  EXPECT_EQ(ParseUrl("http://localhost:2379/v2").status().message(),
            "URL must not contain a path: http://localhost:2379/v2");
  EXPECT_THAT(ParseUrl("http://a:b").status().message(), HasSubstr("invalid port"));
  EXPECT_THAT(ParseUrl("http://a:1?x=y").status().message(), HasSubstr("query"));
  EXPECT_THAT(ParseUrl("http://::1:2379").status().message(), HasSubstr("host:port"));
}

TEST(UrlsTest, Lists) {
  auto list = ParseUrlList("http://a:1,https://b:2", false);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(UrlListString(*list), "http://a:1,https://b:2");
  EXPECT_EQ(ParseUrlList("", false).status().message(), "no valid URLs given");
  EXPECT_TRUE(ParseUrlList("", true).ok());
  EXPECT_FALSE(ParseUrlList("http://a:1,", false).ok());
}

TEST(UrlsTest, BindAndHostChecks) {
  EXPECT_TRUE(
      CheckBindUrls(
          *ParseUrlList("http://localhost:1,http://0.0.0.0:2,http://[::]:3,unix://x:4", false))
          .ok());
  EXPECT_EQ(CheckBindUrls(*ParseUrlList("http://etcd.local:2379", false)).message(),
            "expected IP in URL for binding (http://etcd.local:2379)");
  EXPECT_TRUE(CheckHostUrls(*ParseUrlList("http://etcd.local:2379", false)).ok());
  EXPECT_FALSE(CheckHostUrls(*ParseUrlList("http://:2379", false)).ok());
}

}  // namespace
}  // namespace cairn::config
