// SigV4 against AWS's published S3 examples ("Signature Calculations for the
// Authorization Header: Transferring Payload in a Single Chunk": access key
// AKIAIOSFODNN7EXAMPLE, 20130524T000000Z, us-east-1) and against botocore's own signer
// over a few hundred generated requests (operator/s3/tests/botocore_sign.py).
#include "operator/s3/sigv4.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "server/common/test_dir.h"

namespace cairn::op::s3 {
namespace {

using std::chrono::system_clock;

system_clock::time_point May24() {
  return system_clock::from_time_t(1369353600);  // 2013-05-24T00:00:00Z
}

SigningParams AwsExampleParams() {
  return SigningParams{{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""}, "us-east-1", "s3",
                       May24()};
}

std::map<std::string, std::string> HeaderMap(const Pairs& headers) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : headers) {
    std::string lk;
    for (char c : k) lk.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    out[lk] = v;
  }
  return out;
}

TEST(SigV4AwsExample, GetObjectWithRange) {
  SigningRequest r{"GET", "examplebucket.s3.amazonaws.com", "/test.txt", {}, {{"Range", "bytes=0-9"}},
                   std::string(kEmptySha256)};
  auto s = Sign(r, AwsExampleParams());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->canonical_request,
            "GET\n/test.txt\n\n"
            "host:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\n"
            "host;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s->string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s->signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  auto h = HeaderMap(s->headers);
  EXPECT_EQ(h["authorization"],
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(h["x-amz-date"], "20130524T000000Z");
  EXPECT_EQ(h["x-amz-content-sha256"], kEmptySha256);
  EXPECT_EQ(h.count("x-amz-security-token"), 0u);
  EXPECT_EQ(h.size(), 3u);
}

TEST(SigV4AwsExample, PutObjectWithStorageClass) {
  const std::string body = "Welcome to Amazon S3.";
  ASSERT_EQ(Sha256Hex(body), "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SigningRequest r{"PUT",
                   "examplebucket.s3.amazonaws.com",
                   "/test$file.text",
                   {},
                   {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                   Sha256Hex(body)};
  auto s = Sign(r, AwsExampleParams());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->canonical_request,
            "PUT\n/test%24file.text\n\n"
            "date:Fri, 24 May 2013 00:00:00 GMT\nhost:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
            "x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(s->string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(s->signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4AwsExample, GetBucketLifecycle) {
  SigningRequest r{"GET", "examplebucket.s3.amazonaws.com", "/", {{"lifecycle", ""}}, {},
                   std::string(kEmptySha256)};
  auto s = Sign(r, AwsExampleParams());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->canonical_request,
            "GET\n/\nlifecycle=\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\n"
            "host;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex(s->canonical_request), "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  EXPECT_EQ(s->signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4AwsExample, ListObjects) {
  // Given out of order: the signer sorts.
  SigningRequest r{"GET", "examplebucket.s3.amazonaws.com", "/", {{"prefix", "J"}, {"max-keys", "2"}}, {},
                   std::string(kEmptySha256)};
  auto s = Sign(r, AwsExampleParams());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->canonical_request.substr(0, 27), "GET\n/\nmax-keys=2&prefix=J\nh");
  EXPECT_EQ(Sha256Hex(s->canonical_request), "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  EXPECT_EQ(s->signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, EncodesOnceKeepingSlashes) {
  EXPECT_EQ(EncodePath("/bucket/a b/c+d=e~f%20g/ü"), "/bucket/a%20b/c%2Bd%3De~f%2520g/%C3%BC");
  EXPECT_EQ(EncodePath("/b/x//y/./../z"), "/b/x//y/./../z");  // S3 keys are not normalized
  EXPECT_EQ(UriEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(UriEncode("AZaz09-_.~", false), "AZaz09-_.~");
  EXPECT_EQ(UriEncode(std::string("\x00\xff", 2), false), "%00%FF");
}

TEST(SigV4, QuerySortedByEncodedNameThenValue) {
  EXPECT_EQ(CanonicalQuery({{"prefix", "a b"}, {"list-type", "2"}, {"a", "z"}, {"a", "+"}, {"uploads", ""}}),
            "a=%2B&a=z&list-type=2&prefix=a%20b&uploads=");
  // '%' (0x25) sorts before 'A' once encoded: "%C3%A9" < "A".
  EXPECT_EQ(CanonicalQuery({{"A", "1"}, {"é", "2"}}), "%C3%A9=2&A=1");
}

TEST(SigV4, HeadersTrimmedCollapsedJoinedAndSorted) {
  SigningRequest r{"GET", "h", "/", {}, {{"X-B", "  two   words\there "}, {"x-a", "1"}, {"X-A", " 2 "}},
                   std::string(kEmptySha256)};
  auto s = Sign(r, AwsExampleParams());
  ASSERT_TRUE(s.ok());
  EXPECT_NE(s->canonical_request.find("\nhost:h\nx-a:1,2\nx-amz-content-sha256:"), std::string::npos)
      << s->canonical_request;
  EXPECT_NE(s->canonical_request.find("\nx-b:two words here\n\nhost;x-a;x-amz-content-sha256;x-amz-date;x-b\n"),
            std::string::npos)
      << s->canonical_request;
}

TEST(SigV4, SessionTokenIsSignedAndReturned) {
  SigningParams p = AwsExampleParams();
  p.credentials.session_token = "FQoGZXIvYXdzE//token+/=";
  SigningRequest r{"HEAD", "h", "/k", {}, {}, std::string(kUnsignedPayload)};
  auto s = Sign(r, p);
  ASSERT_TRUE(s.ok());
  auto h = HeaderMap(s->headers);
  EXPECT_EQ(h["x-amz-security-token"], "FQoGZXIvYXdzE//token+/=");
  EXPECT_EQ(h["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
  EXPECT_NE(h["authorization"].find("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"),
            std::string::npos);
  EXPECT_TRUE(s->canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
}

TEST(SigV4, RejectsMalformedInput) {
  SigningRequest ok{"GET", "h", "/", {}, {}, std::string(kEmptySha256)};
  ASSERT_TRUE(Sign(ok, AwsExampleParams()).ok());
  auto bad = [&](auto mutate) {
    SigningRequest r = ok;
    SigningParams p = AwsExampleParams();
    mutate(r, p);
    auto s = Sign(r, p);
    return !s.ok() && s.status().code() == StatusCode::kInvalidArgument;
  };
  EXPECT_TRUE(bad([](SigningRequest& r, SigningParams&) { r.path = "k"; }));
  EXPECT_TRUE(bad([](SigningRequest& r, SigningParams&) { r.payload_sha256 = "E3B0"; }));
  EXPECT_TRUE(bad([](SigningRequest& r, SigningParams&) { r.payload_sha256 = std::string(64, 'E'); }));
  EXPECT_TRUE(bad([](SigningRequest& r, SigningParams&) { r.headers = {{"X-Amz-Date", "x"}}; }));
  EXPECT_TRUE(bad([](SigningRequest& r, SigningParams&) { r.headers = {{"Host", "x"}}; }));
  EXPECT_TRUE(bad([](SigningRequest& r, SigningParams&) { r.headers = {{"a b", "x"}}; }));
  EXPECT_TRUE(bad([](SigningRequest&, SigningParams& p) { p.credentials.secret_access_key.clear(); }));
  EXPECT_TRUE(bad([](SigningRequest&, SigningParams& p) { p.region.clear(); }));
}

TEST(SigV4, HostDateAndHashHelpers) {
  EXPECT_EQ(HostHeader("http", "127.0.0.1", 80), "127.0.0.1");
  EXPECT_EQ(HostHeader("https", "s3.amazonaws.com", 443), "s3.amazonaws.com");
  EXPECT_EQ(HostHeader("https", "s3.amazonaws.com", 80), "s3.amazonaws.com:80");
  EXPECT_EQ(HostHeader("http", "127.0.0.1", 9000), "127.0.0.1:9000");
  EXPECT_EQ(HostHeader("http", "h", 0), "h");
  EXPECT_EQ(AmzDate(May24() + std::chrono::milliseconds(86399999)), "20130524T235959Z");
  EXPECT_EQ(AmzDate(system_clock::from_time_t(951782400)), "20000229T000000Z");
  Sha256 h;
  h.Update("Welcome to ", 11);
  h.Update("Amazon S3.", 10);
  EXPECT_EQ(h.HexDigest(), "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(Sha256Hex(""), kEmptySha256);
}

// --- botocore cross-check ---------------------------------------------------------

struct Generated {
  std::string scheme, host;
  int port;
  SigningRequest request;
  std::string body;
  bool unsigned_payload;
  SigningParams params;
};

template <typename T>
const T& Pick(std::mt19937& rng, const std::vector<T>& v) {
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}

Generated Generate(std::mt19937& rng) {
  auto chance = [&](double p) { return std::bernoulli_distribution(p)(rng); };
  static const std::vector<std::string> kMethods = {"GET", "PUT", "POST", "DELETE", "HEAD"};
  static const std::vector<std::string> kPieces = {
      "a",     "backup", "with space", "two  spaces", "plus+sign", "eq=sign", "tilde~", "pct%20lit", "100%",
      "ünï",   "日本語",  "emoji😀",    "semi;colon", "amp&",      "q?mark",  "hash#",  "star*",     "(paren)",
      "comma,", "$dollar", "at@",     "quote'",     "colon:",    "back\\slash", ".",    "..",        "_-.~"};
  static const std::vector<std::string> kHosts = {"s3.amazonaws.com", "bucket.s3.eu-west-1.amazonaws.com",
                                                  "127.0.0.1", "minio.backup.svc.cluster.local"};
  static const std::vector<std::string> kRegions = {"us-east-1", "eu-west-1", "ap-southeast-2", "auto"};
  static const std::vector<Pairs> kQueries = {
      {},
      {{"uploads", ""}},
      {{"partNumber", "1"}, {"uploadId", "2~abc.DEF_123-xyz"}},
      {{"uploadId", "VXBsb2FkIElE+/="}, {"partNumber", "10000"}},
      {{"list-type", "2"}, {"prefix", "a b"}, {"continuation-token", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="}},
      {{"list-type", "2"}, {"prefix", "backups/ünï/"}, {"max-keys", "7"}, {"encoding-type", "url"}},
      {{"delete", ""}},
      {{"versionId", "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo"}},
      {{"tagging", ""}, {"x-id", "GetObjectTagging"}},
      {{"a", "2"}, {"a", "1"}, {"A", "0"}, {"b", "=&?/"}},
  };
  static const Pairs kHeaders = {
      {"Content-Type", "application/octet-stream"},
      {"x-amz-meta-note", "  several   spaces\tand a tab  "},
      {"X-Amz-Storage-Class", "STANDARD_IA"},
      {"Range", "bytes=0-8388607"},
      {"x-amz-server-side-encryption", "aws:kms"},
      {"Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="},
      {"If-None-Match", "*"},
      {"X-Amz-Meta-Dup", "first"},
      {"x-amz-meta-dup", " second "},
      {"Cache-Control", "no-cache, no-store"},
  };

  Generated g;
  g.scheme = chance(0.5) ? "https" : "http";
  g.host = Pick(rng, kHosts);
  static const std::vector<int> kPorts = {0, 0, 80, 443, 9000, 4568};
  g.port = Pick(rng, kPorts);
  std::string key;
  int n = std::uniform_int_distribution<int>(1, 4)(rng);
  for (int i = 0; i < n; ++i) key += (i ? "/" : "") + Pick(rng, kPieces);
  if (chance(0.2)) key += "/";
  g.request.method = Pick(rng, kMethods);
  g.request.path = chance(0.5) ? "/bucket/" + key : "/" + key;
  if (chance(0.1)) g.request.path = "/";
  g.request.query = Pick(rng, kQueries);
  for (const auto& h : kHeaders) {
    if (chance(0.25)) g.request.headers.push_back(h);
  }
  if (g.request.method == "PUT" || g.request.method == "POST") {
    int len = std::uniform_int_distribution<int>(0, 64)(rng);
    for (int i = 0; i < len; ++i) g.body.push_back(static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng)));
  }
  g.unsigned_payload = chance(0.3);
  g.request.payload_sha256 = g.unsigned_payload ? std::string(kUnsignedPayload) : Sha256Hex(g.body);
  g.request.host = HostHeader(g.scheme, g.host, g.port);

  static const std::string kAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string access = "AKIA";
  for (int i = 0; i < 16; ++i) access.push_back(kAlnum[rng() % kAlnum.size()]);
  std::string secret;
  static const std::string kSecret = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
  for (int i = 0; i < 40; ++i) secret.push_back(kSecret[rng() % kSecret.size()]);
  std::string token;
  if (chance(0.4)) {
    for (int i = 0; i < 120; ++i) token.push_back(kSecret[rng() % kSecret.size()]);
    token += "==";
  }
  // 2000-01-01 .. 2037-12-31, any second.
  auto t = system_clock::from_time_t(
      std::uniform_int_distribution<int64_t>(946684800, 2145830399)(rng));
  g.params = SigningParams{{access, secret, token}, Pick(rng, kRegions), "s3", t};
  return g;
}

std::string Hex(const std::string& s) {
  return HexEncode(reinterpret_cast<const unsigned char*>(s.data()), s.size());
}

// The interpreter with Debian's python3-botocore (tools/install-deps.sh).
constexpr const char* kPython = CAIRN_PYTHON3;

bool BotocoreImportable() {
  std::string cmd = std::string(kPython) + " -c 'import botocore.auth' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

TEST(SigV4Botocore, MatchesBotocoreOnGeneratedRequests) {
  if (!BotocoreImportable()) {
    GTEST_SKIP() << kPython << " cannot import botocore: install python3-botocore (tools/install-deps.sh)";
  }
  std::mt19937 rng(20130524);
  std::vector<Generated> cases;
  for (int i = 0; i < 240; ++i) cases.push_back(Generate(rng));

  nlohmann::json in = nlohmann::json::array();
  for (const auto& g : cases) {
    nlohmann::json query = nlohmann::json::array(), headers = nlohmann::json::array();
    for (const auto& [k, v] : g.request.query) query.push_back({k, v});
    for (const auto& [k, v] : g.request.headers) headers.push_back({k, v});
    in.push_back({{"method", g.request.method}, {"scheme", g.scheme}, {"host", g.host}, {"port", g.port},
                  {"path", g.request.path}, {"query", query}, {"headers", headers}, {"body_hex", Hex(g.body)},
                  {"unsigned_payload", g.unsigned_payload}, {"access_key", g.params.credentials.access_key_id},
                  {"secret_key", g.params.credentials.secret_access_key},
                  {"session_token", g.params.credentials.session_token}, {"region", g.params.region},
                  {"timestamp", AmzDate(g.params.time)}});
  }
  TempDir dir;
  std::ofstream(dir.Join("in.json")) << in.dump();
  std::string cmd = std::string(kPython) + " " + CAIRN_S3_SOURCE_DIR "/tests/botocore_sign.py < " +
                    dir.Join("in.json");
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string text;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) text.append(buf, n);
  int rc = pclose(p);
  ASSERT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << "botocore_sign.py failed: " << text;
  nlohmann::json out = nlohmann::json::parse(text);
  ASSERT_EQ(out.size(), cases.size());

  int with_token = 0, unsigned_payloads = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Generated& g = cases[i];
    auto s = Sign(g.request, g.params);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    std::map<std::string, std::string> want;
    for (auto& [k, v] : out[i].items()) want[k] = v.get<std::string>();
    EXPECT_EQ(HeaderMap(s->headers), HeaderMap(Pairs(want.begin(), want.end())))
        << "request " << i << ": " << g.request.method << " " << g.scheme << "://" << g.request.host
        << EncodePath(g.request.path) << "?" << CanonicalQuery(g.request.query) << "\ncanonical request:\n"
        << s->canonical_request;
    with_token += !g.params.credentials.session_token.empty();
    unsigned_payloads += g.unsigned_payload;
  }
  // The generator did cover both sides of each option.
  EXPECT_GT(with_token, 40);
  EXPECT_GT(unsigned_payloads, 40);
}

}  // namespace
}  // namespace cairn::op::s3
