// The operator's X.509 module: what CA and leaf certificates contain, that validity comes
// only from the injected `now`, that leaves never outlive their CA, that verification picks
// the right CA out of a rotation bundle, and that bad input is refused rather than signed.
#include "operator/tls/certs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "server/common/test_dir.h"

namespace cairn::op::tls {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Fixed and well in the past: if anything consulted the wall clock instead of `now`, the
// 90-day leaves below would be long expired and verification would fail.
const TimePoint kNow = std::chrono::sys_days{std::chrono::year{2025} / 3 / 1} + 12h;
constexpr std::chrono::seconds kYear = std::chrono::hours(24 * 365);

struct X509Free {
  void operator()(X509* c) const { X509_free(c); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr Load(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

bool ExtensionCritical(X509* cert, int nid) {
  const int i = X509_get_ext_by_NID(cert, nid, -1);
  return i >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, i)) == 1;
}

KeyPair Ca(const std::string& cn = "cairn-ca", std::chrono::seconds validity = kYear, TimePoint now = kNow,
           KeyAlgorithm alg = KeyAlgorithm::kEcdsaP256) {
  auto ca = MakeCa(cn, validity, now, alg);
  EXPECT_TRUE(ca.ok()) << ca.status().ToString();
  return ca.ok() ? *ca : KeyPair{};
}

KeyPair Leaf(const KeyPair& ca, LeafRequest req = {}, TimePoint now = kNow) {
  if (req.common_name.empty()) req.common_name = "c-0";
  auto leaf = IssueLeaf(ca, req, now);
  EXPECT_TRUE(leaf.ok()) << leaf.status().ToString();
  return leaf.ok() ? *leaf : KeyPair{};
}

CertInfo Info(const std::string& pem) {
  auto info = ParseCert(pem);
  EXPECT_TRUE(info.ok()) << info.status().ToString();
  return info.ok() ? *info : CertInfo{};
}

TEST(MakeCa, IsASelfSignedCaBackdatedFiveMinutes) {
  const KeyPair ca = Ca("cairn-ca", kYear);
  const CertInfo info = Info(ca.cert_pem);
  EXPECT_TRUE(info.is_ca);
  EXPECT_EQ(info.subject_cn, "cairn-ca");
  EXPECT_EQ(info.issuer_cn, "cairn-ca");
  EXPECT_EQ(info.not_before, kNow - 5min);
  EXPECT_EQ(info.not_after, kNow + kYear);
  EXPECT_THAT(info.subject_key_id_hex, SizeIs(40));  // SHA-1 of the public key
  EXPECT_THAT(info.dns_sans, IsEmpty());
  EXPECT_THAT(info.ip_sans, IsEmpty());
  EXPECT_THAT(ca.key_pem, HasSubstr("-----BEGIN PRIVATE KEY-----"));
  EXPECT_TRUE(KeyMatches(ca.cert_pem, ca.key_pem));
  EXPECT_TRUE(VerifiesWith(ca.cert_pem, ca.cert_pem, kNow));

  X509Ptr cert = Load(ca.cert_pem);
  ASSERT_TRUE(cert);
  EXPECT_TRUE(ExtensionCritical(cert.get(), NID_basic_constraints));
  EXPECT_TRUE(ExtensionCritical(cert.get(), NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_ecdsa_with_SHA256);
}

TEST(MakeCa, SubSecondNowIsFlooredNotRounded) {
  const CertInfo info = Info(Ca("cairn-ca", kYear, kNow + 999ms).cert_pem);
  EXPECT_EQ(info.not_before, kNow - 5min);
  EXPECT_EQ(info.not_after, kNow + kYear);
}

TEST(MakeCa, RefusesBadArguments) {
  EXPECT_EQ(MakeCa("", kYear, kNow, KeyAlgorithm::kEcdsaP256).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeCa("ca", 0s, kNow, KeyAlgorithm::kEcdsaP256).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeCa("ca", -1s, kNow, KeyAlgorithm::kEcdsaP256).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeCa("ca", kYear * 100000, kNow, KeyAlgorithm::kEcdsaP256).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeCa(std::string(65, 'x'), kYear, kNow, KeyAlgorithm::kEcdsaP256).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(IssueLeaf, CarriesSansInOrderAndPointsAtItsCa) {
  const KeyPair ca = Ca();
  LeafRequest req;
  req.common_name = "c-0";
  req.hosts = {"c-0.c-peer.ns.svc", "10.0.0.7", "*.c-peer.ns.svc", "fd00:0:0::1", "localhost", "::1"};
  const KeyPair leaf = Leaf(ca, req);
  const CertInfo info = Info(leaf.cert_pem);
  const CertInfo ca_info = Info(ca.cert_pem);
  EXPECT_FALSE(info.is_ca);
  EXPECT_EQ(info.subject_cn, "c-0");
  EXPECT_EQ(info.issuer_cn, "cairn-ca");
  EXPECT_THAT(info.dns_sans, ElementsAre("c-0.c-peer.ns.svc", "*.c-peer.ns.svc", "localhost"));
  EXPECT_THAT(info.ip_sans, ElementsAre("10.0.0.7", "fd00::1", "::1"));  // canonical text form
  EXPECT_EQ(info.authority_key_id_hex, ca_info.subject_key_id_hex);
  EXPECT_THAT(info.subject_key_id_hex, SizeIs(40));
  EXPECT_NE(info.subject_key_id_hex, ca_info.subject_key_id_hex);
  EXPECT_EQ(info.not_before, kNow - 5min);
  EXPECT_EQ(info.not_after, kNow + req.validity);
  EXPECT_THAT(info.serial_hex, SizeIs(32));  // 128 bits, positive
  EXPECT_TRUE(KeyMatches(leaf.cert_pem, leaf.key_pem));

  X509Ptr cert = Load(leaf.cert_pem);
  ASSERT_TRUE(cert);
  EXPECT_NE(X509_get_extension_flags(cert.get()) & EXFLAG_BCONS, 0u);  // CA:FALSE is present, not just absent
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  // OpenSSL's own hostname matching agrees with the SANs, wildcard included.
  EXPECT_EQ(X509_check_host(cert.get(), "c-3.c-peer.ns.svc", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "fd00::1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "10.0.0.8", 0), 0);
}

TEST(IssueLeaf, ExtendedKeyUsageFollowsTheRequest) {
  const KeyPair ca = Ca();
  struct Case {
    bool server, client;
    uint32_t xku;
  };
  for (const Case& c : {Case{true, true, XKU_SSL_SERVER | XKU_SSL_CLIENT}, Case{true, false, XKU_SSL_SERVER},
                        Case{false, true, XKU_SSL_CLIENT}}) {
    SCOPED_TRACE(std::to_string(c.server) + "/" + std::to_string(c.client));
    LeafRequest req;
    req.server_auth = c.server;
    req.client_auth = c.client;
    X509Ptr cert = Load(Leaf(ca, req).cert_pem);
    ASSERT_TRUE(cert);
    EXPECT_EQ(X509_get_extended_key_usage(cert.get()), c.xku);
    EXPECT_EQ(X509_check_purpose(cert.get(), X509_PURPOSE_SSL_SERVER, 0), c.server ? 1 : 0);
    EXPECT_EQ(X509_check_purpose(cert.get(), X509_PURPOSE_SSL_CLIENT, 0), c.client ? 1 : 0);
  }
  LeafRequest neither;
  neither.common_name = "c-0";
  neither.server_auth = neither.client_auth = false;
  EXPECT_EQ(IssueLeaf(ca, neither, kNow).status().code(), StatusCode::kInvalidArgument);
}

TEST(IssueLeaf, RefusesHostsThatAreNeitherIpNorDnsName) {
  const KeyPair ca = Ca();
  for (const std::string host : {"", "a..b", "foo.*.bar", "*", "x.", "bad host", "a,IP:1.2.3.4", "fe80::1%eth0"}) {
    SCOPED_TRACE(host);
    LeafRequest req;
    req.common_name = "c-0";
    req.hosts = {host};
    EXPECT_EQ(IssueLeaf(ca, req, kNow).status().code(), StatusCode::kInvalidArgument);
  }
  LeafRequest no_cn;
  EXPECT_EQ(IssueLeaf(ca, no_cn, kNow).status().code(), StatusCode::kInvalidArgument);
  LeafRequest no_validity;
  no_validity.common_name = "c-0";
  no_validity.validity = 0s;
  EXPECT_EQ(IssueLeaf(ca, no_validity, kNow).status().code(), StatusCode::kInvalidArgument);
}

TEST(VerifiesWith, OnlyItsOwnCaAndOnlyWithinValidityAtNow) {
  const KeyPair ca = Ca();
  const KeyPair other = Ca();  // same CN, different key: only the signature tells them apart
  LeafRequest req;
  req.validity = 24h;
  const KeyPair leaf = Leaf(ca, req);
  const CertInfo info = Info(leaf.cert_pem);

  EXPECT_TRUE(VerifiesWith(leaf.cert_pem, ca.cert_pem, kNow));
  EXPECT_FALSE(VerifiesWith(leaf.cert_pem, other.cert_pem, kNow));
  EXPECT_FALSE(VerifiesWith(leaf.cert_pem, Ca("someone-else").cert_pem, kNow));

  EXPECT_FALSE(VerifiesWith(leaf.cert_pem, ca.cert_pem, info.not_before - 1s));
  EXPECT_TRUE(VerifiesWith(leaf.cert_pem, ca.cert_pem, info.not_before));
  EXPECT_TRUE(VerifiesWith(leaf.cert_pem, ca.cert_pem, info.not_after - 1s));
  EXPECT_FALSE(VerifiesWith(leaf.cert_pem, ca.cert_pem, info.not_after));
  EXPECT_FALSE(VerifiesWith(leaf.cert_pem, ca.cert_pem, info.not_after + 1h));

  EXPECT_FALSE(VerifiesWith("garbage", ca.cert_pem, kNow));
  EXPECT_FALSE(VerifiesWith(leaf.cert_pem, "garbage", kNow));
  EXPECT_FALSE(VerifiesWith(leaf.cert_pem, ca.cert_pem + "garbage\n-----BEGIN CERTIFICATE-----\nAAAA\n"
                                                         "-----END CERTIFICATE-----\n", kNow));
}

TEST(VerifiesWith, ARotationBundleVerifiesLeavesOfEitherCa) {
  // The usual rotation: the new CA has the same subject as the old one, so the verifier must
  // use the authorityKeyIdentifier (or try both) rather than stop at the first name match.
  const KeyPair old_ca = Ca("cairn-ca");
  const KeyPair new_ca = Ca("cairn-ca", kYear, kNow + 24h);
  const KeyPair renamed_ca = Ca("cairn-ca-2");
  const KeyPair stranger = Ca("cairn-ca");
  const KeyPair old_leaf = Leaf(old_ca);
  const KeyPair new_leaf = Leaf(new_ca, {}, kNow + 24h);
  const KeyPair renamed_leaf = Leaf(renamed_ca);
  const TimePoint at = kNow + 48h;

  for (const std::string& bundle : {old_ca.cert_pem + new_ca.cert_pem, new_ca.cert_pem + old_ca.cert_pem}) {
    EXPECT_TRUE(VerifiesWith(old_leaf.cert_pem, bundle, at));
    EXPECT_TRUE(VerifiesWith(new_leaf.cert_pem, bundle, at));
    EXPECT_FALSE(VerifiesWith(Leaf(stranger).cert_pem, bundle, at));
  }
  const std::string mixed = old_ca.cert_pem + renamed_ca.cert_pem;
  EXPECT_TRUE(VerifiesWith(old_leaf.cert_pem, mixed, at));
  EXPECT_TRUE(VerifiesWith(renamed_leaf.cert_pem, mixed, at));
  EXPECT_FALSE(VerifiesWith(new_leaf.cert_pem, mixed, at));

  auto infos = ParseBundle(old_ca.cert_pem + new_ca.cert_pem);
  ASSERT_TRUE(infos.ok()) << infos.status().ToString();
  ASSERT_THAT(*infos, SizeIs(2));
  EXPECT_EQ((*infos)[0].serial_hex, Info(old_ca.cert_pem).serial_hex);
  EXPECT_EQ((*infos)[1].serial_hex, Info(new_ca.cert_pem).serial_hex);
  EXPECT_EQ((*infos)[1].not_before, kNow + 24h - 5min);
}

TEST(IssueLeaf, NeverOutlivesItsCa) {
  const KeyPair ca = Ca("short-ca", 10 * 24h);
  LeafRequest req;
  req.validity = 90 * 24h;
  const CertInfo capped = Info(Leaf(ca, req).cert_pem);
  EXPECT_EQ(capped.not_after, Info(ca.cert_pem).not_after);
  EXPECT_EQ(capped.not_after, kNow + 10 * 24h);

  req.validity = 24h;
  EXPECT_EQ(Info(Leaf(ca, req).cert_pem).not_after, kNow + 24h);

  // One second before the CA expires, a leaf is still issued, and it ends with the CA.
  req.validity = 90 * 24h;
  const TimePoint last = kNow + 10 * 24h - 1s;
  const KeyPair late = Leaf(ca, req, last);
  EXPECT_EQ(Info(late.cert_pem).not_after, kNow + 10 * 24h);
  EXPECT_TRUE(VerifiesWith(late.cert_pem, ca.cert_pem, last));
}

TEST(IssueLeaf, RefusesAnExpiredCa) {
  const KeyPair ca = Ca("short-ca", 24h);
  auto leaf = IssueLeaf(ca, {.common_name = "c-0"}, kNow + 24h);
  EXPECT_EQ(leaf.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(leaf.status().message(), HasSubstr("expired"));
  EXPECT_EQ(IssueLeaf(ca, {.common_name = "c-0"}, kNow + 30 * 24h).status().code(), StatusCode::kInvalidArgument);
}

TEST(IssueLeaf, RefusesAnythingButACaCertificateWithItsKey) {
  const KeyPair ca = Ca();
  const KeyPair other = Ca();
  const KeyPair leaf = Leaf(ca);
  const LeafRequest req{.common_name = "c-0"};
  const auto code = [&](const KeyPair& signer) { return IssueLeaf(signer, req, kNow).status().code(); };
  EXPECT_EQ(code({ca.cert_pem, other.key_pem}), StatusCode::kInvalidArgument);  // key of another CA
  EXPECT_EQ(code({ca.cert_pem, Ca("rsa", kYear, kNow, KeyAlgorithm::kRsa2048).key_pem}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(leaf), StatusCode::kInvalidArgument);  // a leaf with its own key is no CA
  EXPECT_EQ(code({ca.key_pem, ca.cert_pem}), StatusCode::kInvalidArgument);  // swapped
  EXPECT_EQ(code({"garbage", ca.key_pem}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({ca.cert_pem, ""}), StatusCode::kInvalidArgument);
  EXPECT_TRUE(IssueLeaf(ca, req, kNow).ok());
}

// A self-signed certificate with exactly the given extensions: CAs MakeCa would never make.
KeyPair SelfSigned(const std::vector<std::pair<int, const char*>>& exts) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  X509Ptr cert(X509_new());
  X509_NAME* name = X509_get_subject_name(cert.get());
  const auto* cn = reinterpret_cast<const unsigned char*>("handmade-ca");
  EXPECT_EQ(X509_set_version(cert.get(), X509_VERSION_3), 1);
  EXPECT_EQ(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 7), 1);
  EXPECT_EQ(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, -1, -1, 0), 1);
  EXPECT_EQ(X509_set_issuer_name(cert.get(), name), 1);
  const time_t now = std::chrono::system_clock::to_time_t(kNow);
  EXPECT_NE(ASN1_TIME_set(X509_getm_notBefore(cert.get()), now - 3600), nullptr);
  EXPECT_NE(ASN1_TIME_set(X509_getm_notAfter(cert.get()), now + 365 * 24 * 3600), nullptr);
  EXPECT_EQ(X509_set_pubkey(cert.get(), key.get()), 1);
  for (const auto& [nid, value] : exts) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    EXPECT_NE(ext, nullptr) << value;
    EXPECT_EQ(X509_add_ext(cert.get(), ext, -1), 1);
    X509_EXTENSION_free(ext);
  }
  EXPECT_GT(X509_sign(cert.get(), key.get(), EVP_sha256()), 0);
  KeyPair out;
  std::unique_ptr<BIO, decltype(&BIO_free)> c(BIO_new(BIO_s_mem()), BIO_free), k(BIO_new(BIO_s_mem()), BIO_free);
  EXPECT_EQ(PEM_write_bio_X509(c.get(), cert.get()), 1);
  EXPECT_EQ(PEM_write_bio_PrivateKey(k.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  out.cert_pem.assign(data, static_cast<size_t>(BIO_get_mem_data(c.get(), &data)));
  out.key_pem.assign(data, static_cast<size_t>(BIO_get_mem_data(k.get(), &data)));
  return out;
}

TEST(IssueLeaf, JudgesForeignCasByBasicConstraintsAndKeyUsage) {
  const LeafRequest req{.common_name = "c-0"};
  // keyCertSign alone does not make a CA: basicConstraints must say so.
  const KeyPair not_ca = SelfSigned({{NID_basic_constraints, "critical,CA:FALSE"}, {NID_key_usage, "keyCertSign"}});
  EXPECT_EQ(IssueLeaf(not_ca, req, kNow).status().code(), StatusCode::kInvalidArgument);
  // A CA whose keyUsage forbids certificate signing.
  const KeyPair no_sign =
      SelfSigned({{NID_basic_constraints, "critical,CA:TRUE"}, {NID_key_usage, "critical,digitalSignature"}});
  EXPECT_EQ(IssueLeaf(no_sign, req, kNow).status().code(), StatusCode::kInvalidArgument);

  // A CA without subjectKeyIdentifier (and without keyUsage) still signs; the leaf's
  // authorityKeyIdentifier is then the SHA-1 of the CA's public key.
  const KeyPair bare = SelfSigned({{NID_basic_constraints, "critical,CA:TRUE"}});
  ASSERT_THAT(Info(bare.cert_pem).subject_key_id_hex, IsEmpty());
  const KeyPair leaf = Leaf(bare, req);
  X509Ptr ca_cert = Load(bare.cert_pem);
  ASSERT_TRUE(ca_cert);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  ASSERT_EQ(X509_pubkey_digest(ca_cert.get(), EVP_sha1(), md, &md_len), 1);
  std::string expected;
  for (unsigned int i = 0; i < md_len; ++i) {
    char byte[3];
    std::snprintf(byte, sizeof byte, "%02X", md[i]);
    expected += byte;
  }
  EXPECT_EQ(Info(leaf.cert_pem).authority_key_id_hex, expected);
  EXPECT_TRUE(VerifiesWith(leaf.cert_pem, bare.cert_pem, kNow));
}

TEST(IssueLeaf, RsaKeysWorkOnEitherSide) {
  const KeyPair rsa_ca = Ca("rsa-ca", kYear, kNow, KeyAlgorithm::kRsa2048);
  const KeyPair ec_ca = Ca("ec-ca");
  LeafRequest rsa_req{.common_name = "c-0", .hosts = {"c-0.ns.svc"}, .alg = KeyAlgorithm::kRsa2048};
  const KeyPair rsa_from_rsa = Leaf(rsa_ca, rsa_req);
  const KeyPair ec_from_rsa = Leaf(rsa_ca);
  const KeyPair rsa_from_ec = Leaf(ec_ca, rsa_req);
  EXPECT_TRUE(VerifiesWith(rsa_from_rsa.cert_pem, rsa_ca.cert_pem, kNow));
  EXPECT_TRUE(VerifiesWith(ec_from_rsa.cert_pem, rsa_ca.cert_pem, kNow));
  EXPECT_TRUE(VerifiesWith(rsa_from_ec.cert_pem, ec_ca.cert_pem, kNow));
  EXPECT_FALSE(VerifiesWith(rsa_from_ec.cert_pem, rsa_ca.cert_pem, kNow));
  EXPECT_TRUE(KeyMatches(rsa_from_rsa.cert_pem, rsa_from_rsa.key_pem));
  EXPECT_TRUE(KeyMatches(rsa_ca.cert_pem, rsa_ca.key_pem));
  EXPECT_TRUE(Info(rsa_ca.cert_pem).is_ca);
  EXPECT_EQ(Info(rsa_from_rsa.cert_pem).dns_sans, std::vector<std::string>{"c-0.ns.svc"});

  X509Ptr cert = Load(rsa_from_rsa.cert_pem);
  ASSERT_TRUE(cert);
  EVP_PKEY* pub = X509_get0_pubkey(cert.get());
  EXPECT_EQ(EVP_PKEY_get_base_id(pub), EVP_PKEY_RSA);
  EXPECT_EQ(EVP_PKEY_get_bits(pub), 2048);
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_sha256WithRSAEncryption);
}

TEST(KeyMatches, OnlyTheCertificatesOwnKey) {
  const KeyPair ca = Ca();
  const KeyPair a = Leaf(ca);
  const KeyPair b = Leaf(ca);
  EXPECT_TRUE(KeyMatches(a.cert_pem, a.key_pem));
  EXPECT_FALSE(KeyMatches(a.cert_pem, b.key_pem));
  EXPECT_FALSE(KeyMatches(a.cert_pem, ca.key_pem));
  EXPECT_FALSE(KeyMatches(a.cert_pem, "garbage"));
  EXPECT_FALSE(KeyMatches("garbage", a.key_pem));
  EXPECT_TRUE(KeyMatches(a.cert_pem + ca.cert_pem, a.key_pem));  // a chain: its first certificate counts
}

TEST(ParseBundle, RefusesGarbageAndPartlyBrokenBundles) {
  const KeyPair ca = Ca();
  EXPECT_EQ(ParseBundle("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseBundle("garbage").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseBundle("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseBundle("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").status().code(),
            StatusCode::kInvalidArgument);
  // A good certificate followed by a truncated one.
  const std::string truncated = ca.cert_pem.substr(0, ca.cert_pem.size() / 2);
  EXPECT_EQ(ParseBundle(ca.cert_pem + truncated).status().code(), StatusCode::kInvalidArgument);
  // A private key has no business in a CA bundle.
  EXPECT_EQ(ParseBundle(ca.cert_pem + ca.key_pem).status().code(), StatusCode::kInvalidArgument);

  EXPECT_EQ(ParseCert("garbage").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCert(ca.key_pem).status().code(), StatusCode::kInvalidArgument);
  // ParseCert takes the first certificate, past a key block, whatever follows.
  auto first = ParseCert(ca.key_pem + ca.cert_pem + truncated);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->subject_cn, "cairn-ca");

  auto one = ParseBundle("# comment lines around blocks are allowed\n" + ca.cert_pem + "\n");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_THAT(*one, SizeIs(1));
}

TEST(IssueLeaf, SerialsDiffer) {
  const KeyPair ca = Ca();
  std::set<std::string> serials{Info(ca.cert_pem).serial_hex};
  for (int i = 0; i < 8; ++i) {
    const std::string s = Info(Leaf(ca).cert_pem).serial_hex;
    EXPECT_THAT(s, SizeIs(32));
    EXPECT_EQ(s.find_first_not_of("0123456789ABCDEF"), std::string::npos) << s;
    serials.insert(s);
  }
  EXPECT_THAT(serials, SizeIs(9));
}

TEST(Certs, LeaveNoOpenSslErrorsBehind) {
  // A stale error on the thread's queue would be misattributed by the next OpenSSL user.
  ERR_clear_error();
  EXPECT_FALSE(ParseCert("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").ok());
  EXPECT_EQ(ERR_peek_error(), 0u);
  EXPECT_FALSE(KeyMatches(Ca().cert_pem, Ca().key_pem));
  EXPECT_EQ(ERR_peek_error(), 0u);
  EXPECT_FALSE(IssueLeaf({"garbage", "garbage"}, {.common_name = "c-0"}, kNow).ok());
  EXPECT_EQ(ERR_peek_error(), 0u);
  EXPECT_FALSE(VerifiesWith(Leaf(Ca()).cert_pem, Ca().cert_pem, kNow));
  EXPECT_EQ(ERR_peek_error(), 0u);
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path);
  out << data;
  ASSERT_TRUE(out.good()) << path;
}

// The openssl CLI as an independent verifier. It judges validity by the wall clock, so this
// test (only) issues at the real current time.
TEST(OpensslCli, VerifiesTheLeafWithItsCa) {
  const TimePoint now = std::chrono::system_clock::now();
  const KeyPair ca = Ca("cairn-ca", kYear, now);
  const KeyPair leaf = Leaf(ca, {.common_name = "c-0", .hosts = {"c-0.c-peer.ns.svc", "10.0.0.7"}}, now);
  const KeyPair stranger = Ca("cairn-ca", kYear, now);
  TempDir dir;
  WriteFile(dir.Join("ca.pem"), ca.cert_pem);
  WriteFile(dir.Join("leaf.pem"), leaf.cert_pem);
  WriteFile(dir.Join("other.pem"), stranger.cert_pem);
  const std::string base = "openssl verify -purpose sslserver -CAfile ";
  const std::string quiet = " >" + dir.Join("out.txt") + " 2>&1";
  EXPECT_EQ(std::system((base + dir.Join("ca.pem") + " " + dir.Join("leaf.pem") + quiet).c_str()), 0);
  std::ifstream out(dir.Join("out.txt"));
  const std::string text((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr(": OK"));
  EXPECT_NE(std::system((base + dir.Join("other.pem") + " " + dir.Join("leaf.pem") + quiet).c_str()), 0);
}

}  // namespace
}  // namespace cairn::op::tls
