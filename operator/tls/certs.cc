#include "operator/tls/certs.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "server/transport/openssl_ptr.h"

namespace cairn::op::tls {
namespace {

using transport::ossl::BigNum;
using transport::ossl::Bio;
using transport::ossl::Cert;
using transport::ossl::Deleter;
using transport::ossl::Ext;
using transport::ossl::PKey;
using Store = std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>>;
using StoreCtx = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;
using GeneralName = std::unique_ptr<GENERAL_NAME, Deleter<GENERAL_NAME, GENERAL_NAME_free>>;
using GeneralNames = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES, GENERAL_NAMES_free>>;
using AuthorityKeyId = std::unique_ptr<AUTHORITY_KEYID, Deleter<AUTHORITY_KEYID, AUTHORITY_KEYID_free>>;
using OctetString = std::unique_ptr<ASN1_OCTET_STRING, Deleter<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>>;
using Ia5String = std::unique_ptr<ASN1_IA5STRING, Deleter<ASN1_IA5STRING, ASN1_IA5STRING_free>>;

// OPENSSL_free is a macro, so it cannot be a Deleter template argument.
struct OpenSslFree {
  void operator()(void* p) const { OPENSSL_free(p); }
};

constexpr std::chrono::seconds kBackdate = std::chrono::minutes(5);
// 9999-12-31T23:59:59Z, the last instant GeneralizedTime can hold. Bounding notAfter by it
// also keeps `now + validity` far from time_t overflow.
constexpr int64_t kMaxCertTime = 253402300799;

// OpenSSL's error queue is per thread and outlives the call: whatever is left on it would be
// reported by the next, unrelated OpenSSL call on this thread (SSL_get_error reads it).
struct ClearErrorsOnExit {
  ClearErrorsOnExit() = default;
  ClearErrorsOnExit(const ClearErrorsOnExit&) = delete;
  ClearErrorsOnExit& operator=(const ClearErrorsOnExit&) = delete;
  ~ClearErrorsOnExit() { ERR_clear_error(); }
};

std::string LastOpenSslReason() {
  const unsigned long e = ERR_peek_last_error();
  if (e == 0) return "";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return std::string(": ") + buf;
}

Status OpenSslError(const std::string& what) {
  return Status::Internal("tls: " + what + " failed" + LastOpenSslReason());
}

time_t UnixSeconds(TimePoint t) {
  // floor, not truncation: a pre-epoch `now` must not move forward.
  return static_cast<time_t>(std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count());
}

TimePoint FromUnixSeconds(time_t t) { return TimePoint(std::chrono::seconds(t)); }

std::optional<time_t> AsnTimeToUnix(const ASN1_TIME* t) {
  struct tm tm = {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return timegm(&tm);
}

Status CheckValidity(std::chrono::seconds validity, time_t now_t) {
  if (validity.count() <= 0) return Status::InvalidArgument("tls: validity must be positive");
  if (validity.count() > kMaxCertTime - now_t) return Status::InvalidArgument("tls: validity ends after year 9999");
  return Status::Ok();
}

std::string Hex(const ASN1_OCTET_STRING* s) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  if (s == nullptr) return out;
  const unsigned char* p = ASN1_STRING_get0_data(s);
  const int n = ASN1_STRING_length(s);
  out.reserve(static_cast<size_t>(n) * 2);
  for (int i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 0xF];
  }
  return out;
}

Result<std::string> Pem(const std::function<int(BIO*)>& write) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) return OpenSslError("PEM encoding");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<KeyPair> Encode(X509* cert, EVP_PKEY* key) {
  auto cert_pem = Pem([&](BIO* b) { return PEM_write_bio_X509(b, cert); });
  if (!cert_pem.ok()) return cert_pem.status();
  // PKCS#8, unencrypted: the one private-key form both Go and OpenSSL load without hints.
  auto key_pem = Pem([&](BIO* b) { return PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); });
  if (!key_pem.ok()) return key_pem.status();
  return KeyPair{std::move(cert_pem).value(), std::move(key_pem).value()};
}

Result<PKey> GenerateKey(KeyAlgorithm alg) {
  PKey key;
  switch (alg) {
    case KeyAlgorithm::kEcdsaP256:
      key.reset(EVP_EC_gen("P-256"));
      break;
    case KeyAlgorithm::kRsa2048:
      key.reset(EVP_RSA_gen(2048));
      break;
  }
  if (!key) return OpenSslError("key generation");
  return key;
}

// PEM blocks in order. A block that is not a certificate is skipped, or with `strict` an
// error. Stops after the first certificate with `first_only`.
Result<std::vector<Cert>> ReadCerts(const std::string& pem, bool first_only, bool strict) {
  if (pem.size() > static_cast<size_t>(INT_MAX)) return Status::InvalidArgument("tls: PEM text too large");
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpenSslError("BIO");
  std::vector<Cert> certs;
  for (int block = 1;; ++block) {
    ERR_clear_error();  // so the end-of-input test below sees only this read's error
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
      const unsigned long e = ERR_peek_last_error();
      if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) break;  // no more blocks
      return Status::InvalidArgument("tls: malformed PEM block #" + std::to_string(block) + LastOpenSslReason());
    }
    const std::unique_ptr<char, OpenSslFree> name_owner(name);
    const std::unique_ptr<char, OpenSslFree> header_owner(header);
    const std::unique_ptr<unsigned char, OpenSslFree> data_owner(data);
    const std::string_view type(name);
    if (type != PEM_STRING_X509 && type != PEM_STRING_X509_OLD) {
      if (strict) {
        return Status::InvalidArgument("tls: PEM block #" + std::to_string(block) + " is a " + std::string(type) +
                                       ", not a CERTIFICATE");
      }
      continue;
    }
    const unsigned char* p = data;
    Cert cert(d2i_X509(nullptr, &p, len));
    // Trailing bytes inside the block mean it is not the certificate it claims to be.
    if (!cert || p != data + len) {
      return Status::InvalidArgument("tls: PEM block #" + std::to_string(block) + " is not a valid certificate" +
                                     LastOpenSslReason());
    }
    // d2i does not decode extension contents; OpenSSL flags undecodable or duplicated ones
    // here, and would refuse such a certificate in verification anyway.
    if ((X509_get_extension_flags(cert.get()) & EXFLAG_INVALID) != 0) {
      return Status::InvalidArgument("tls: certificate in PEM block #" + std::to_string(block) +
                                     " has malformed extensions");
    }
    certs.push_back(std::move(cert));
    if (first_only) break;
  }
  if (certs.empty()) return Status::InvalidArgument("tls: no certificate in PEM text");
  return certs;
}

Result<PKey> ReadKey(const std::string& pem) {
  if (pem.size() > static_cast<size_t>(INT_MAX)) return Status::InvalidArgument("tls: PEM text too large");
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpenSslError("BIO");
  // With no callback OpenSSL would prompt for a passphrase on the terminal; an encrypted
  // key must simply fail.
  pem_password_cb* no_passphrase = [](char*, int, int, void*) { return 0; };
  PKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) return Status::InvalidArgument("tls: no readable private key in PEM text" + LastOpenSslReason());
  return key;
}

// Go's crypto/x509 reports the last CN; doing the same keeps the operator and the etcd
// tooling in agreement on the rare multi-CN name.
std::string LastCommonName(const X509_NAME* name) {
  int last = -1;
  for (int i = -1; (i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) >= 0;) last = i;
  if (last < 0) return "";
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last)));
  if (n < 0) return "";
  const std::unique_ptr<unsigned char, OpenSslFree> owner(utf8);
  return std::string(reinterpret_cast<const char*>(utf8), static_cast<size_t>(n));
}

Result<CertInfo> Describe(X509* cert) {
  CertInfo info;
  BigNum serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!serial) return OpenSslError("reading the serial number");
  const std::unique_ptr<char, OpenSslFree> hex(BN_bn2hex(serial.get()));
  if (!hex) return OpenSslError("formatting the serial number");
  info.serial_hex = hex.get();

  const auto not_before = AsnTimeToUnix(X509_get0_notBefore(cert));
  const auto not_after = AsnTimeToUnix(X509_get0_notAfter(cert));
  if (!not_before || !not_after) return Status::InvalidArgument("tls: certificate has an unreadable validity period");
  info.not_before = FromUnixSeconds(*not_before);
  info.not_after = FromUnixSeconds(*not_after);

  info.subject_cn = LastCommonName(X509_get_subject_name(cert));
  info.issuer_cn = LastCommonName(X509_get_issuer_name(cert));

  const GeneralNames names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type == GEN_DNS) {
      info.dns_sans.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
                                 static_cast<size_t>(ASN1_STRING_length(gn->d.dNSName)));
    } else if (gn->type == GEN_IPADD) {
      const int n = ASN1_STRING_length(gn->d.iPAddress);
      if (n != 4 && n != 16) return Status::InvalidArgument("tls: IP SAN of " + std::to_string(n) + " bytes");
      char text[INET6_ADDRSTRLEN] = {};
      inet_ntop(n == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(gn->d.iPAddress), text, sizeof text);
      info.ip_sans.emplace_back(text);
    }
  }

  info.is_ca = (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;
  info.subject_key_id_hex = Hex(X509_get0_subject_key_id(cert));
  info.authority_key_id_hex = Hex(X509_get0_authority_key_id(cert));
  return info;
}

// Letters, digits, '-' and '_' per label; '*' only as the whole leftmost label of a name with
// more labels, the one wildcard form TLS hostname matching honours. Anything else would be
// a SAN no client can ever match, so it is a caller bug worth failing on.
bool IsDnsName(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  size_t start = 0;
  for (int label_no = 0;; ++label_no) {
    const size_t dot = h.find('.', start);
    const std::string_view label = h.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (label == "*") {
      if (label_no != 0 || dot == std::string_view::npos) return false;
    } else {
      for (const char c : label) {
        if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-' && c != '_') return false;
      }
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// Built as values rather than through an "IP:...,DNS:..." config string, so a host can
// never inject extra SANs through commas in the configuration syntax.
Result<GeneralNames> SubjectAltNames(const std::vector<std::string>& hosts) {
  GeneralNames names(sk_GENERAL_NAME_new_null());
  if (!names) return OpenSslError("SAN list");
  for (const auto& h : hosts) {
    GeneralName gn(GENERAL_NAME_new());
    if (!gn) return OpenSslError("SAN");
    unsigned char ip[16];
    int ip_len = 0;
    if (inet_pton(AF_INET, h.c_str(), ip) == 1) {
      ip_len = 4;
    } else if (inet_pton(AF_INET6, h.c_str(), ip) == 1) {
      ip_len = 16;
    }
    if (ip_len > 0) {
      OctetString value(ASN1_OCTET_STRING_new());
      if (!value || ASN1_OCTET_STRING_set(value.get(), ip, ip_len) != 1) return OpenSslError("IP SAN");
      GENERAL_NAME_set0_value(gn.get(), GEN_IPADD, value.release());
    } else {
      if (!IsDnsName(h)) return Status::InvalidArgument("tls: host \"" + h + "\" is neither an IP address nor a DNS name");
      Ia5String value(ASN1_IA5STRING_new());
      if (!value || ASN1_STRING_set(value.get(), h.data(), static_cast<int>(h.size())) != 1) {
        return OpenSslError("DNS SAN");
      }
      GENERAL_NAME_set0_value(gn.get(), GEN_DNS, value.release());
    }
    if (sk_GENERAL_NAME_push(names.get(), gn.get()) <= 0) return OpenSslError("SAN list");
    gn.release();  // now owned by names
  }
  return names;
}

Status AddConfExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Ext ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) return OpenSslError(std::string("extension ") + value);
  return Status::Ok();
}

// The CA's own subjectKeyIdentifier, so clients pick the right CA when old and new CA share
// a subject name during rotation. A CA without one (not ours; RFC 5280 requires it) gets
// the SHA-1 of its public key, the same value OpenSSL's "hash" method would have put there.
Status AddAuthorityKeyId(X509* cert, X509* ca) {
  AuthorityKeyId akid(AUTHORITY_KEYID_new());
  if (!akid) return OpenSslError("authorityKeyIdentifier");
  if (const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(ca); ski != nullptr) {
    akid->keyid = ASN1_OCTET_STRING_dup(ski);
  } else {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    OctetString id(ASN1_OCTET_STRING_new());
    if (!id || X509_pubkey_digest(ca, EVP_sha1(), md, &md_len) != 1 ||
        ASN1_OCTET_STRING_set(id.get(), md, static_cast<int>(md_len)) != 1) {
      return OpenSslError("authorityKeyIdentifier");
    }
    akid->keyid = id.release();
  }
  if (akid->keyid == nullptr || X509_add1_ext_i2d(cert, NID_authority_key_identifier, akid.get(), 0,
                                                   X509V3_ADD_DEFAULT) != 1) {
    return OpenSslError("authorityKeyIdentifier");
  }
  return Status::Ok();
}

// Serial, version, subject CN, validity and public key: what CA and leaf have in common.
Status FillCommonFields(X509* cert, const std::string& common_name, time_t not_before, time_t not_after,
                        EVP_PKEY* key) {
  BigNum serial(BN_new());
  // Top bit forced: never zero (RFC 5280 wants positive serials), always 32 hex digits, and
  // still 127 random bits, far beyond the 64 that make collisions and prediction moot.
  if (!serial || BN_rand(serial.get(), 128, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) == nullptr) {
    return OpenSslError("serial number");
  }
  if (X509_set_version(cert, X509_VERSION_3) != 1) return OpenSslError("version");
  // OpenSSL enforces the ASN.1 bounds on CN (1..64 characters); only the input can break them.
  const auto* cn = reinterpret_cast<const unsigned char*>(common_name.data());
  if (X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_UTF8, cn,
                                 static_cast<int>(common_name.size()), -1, 0) != 1) {
    return Status::InvalidArgument("tls: common name \"" + common_name + "\" is not 1..64 UTF-8 characters");
  }
  if (ASN1_TIME_set(X509_getm_notBefore(cert), not_before) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert), not_after) == nullptr) {
    return OpenSslError("validity period");
  }
  if (X509_set_pubkey(cert, key) != 1) return OpenSslError("public key");
  return Status::Ok();
}

}  // namespace

Result<KeyPair> MakeCa(const std::string& common_name, std::chrono::seconds validity, TimePoint now,
                       KeyAlgorithm alg) {
  const ClearErrorsOnExit clear;
  if (common_name.empty()) return Status::InvalidArgument("tls: CA common name is empty");
  const time_t now_t = UnixSeconds(now);
  CAIRN_RETURN_IF_ERROR(CheckValidity(validity, now_t));
  auto key = GenerateKey(alg);
  if (!key.ok()) return key.status();
  Cert cert(X509_new());
  if (!cert) return OpenSslError("X509_new");
  CAIRN_RETURN_IF_ERROR(FillCommonFields(cert.get(), common_name, now_t - kBackdate.count(),
                                         now_t + validity.count(), key->get()));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) != 1) return OpenSslError("issuer name");
  CAIRN_RETURN_IF_ERROR(AddConfExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE"));
  CAIRN_RETURN_IF_ERROR(
      AddConfExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"));
  CAIRN_RETURN_IF_ERROR(AddConfExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash"));
  if (X509_sign(cert.get(), key->get(), EVP_sha256()) == 0) return OpenSslError("signing");
  return Encode(cert.get(), key->get());
}

Result<KeyPair> IssueLeaf(const KeyPair& ca, const LeafRequest& req, TimePoint now) {
  const ClearErrorsOnExit clear;
  if (req.common_name.empty()) return Status::InvalidArgument("tls: leaf common name is empty");
  if (!req.server_auth && !req.client_auth) {
    // Without an extendedKeyUsage a certificate is valid for every purpose; never issue that.
    return Status::InvalidArgument("tls: leaf needs server_auth or client_auth");
  }
  const time_t now_t = UnixSeconds(now);
  CAIRN_RETURN_IF_ERROR(CheckValidity(req.validity, now_t));

  auto ca_certs = ReadCerts(ca.cert_pem, /*first_only=*/true, /*strict=*/false);
  if (!ca_certs.ok()) return Status::InvalidArgument("tls: CA certificate: " + ca_certs.status().message());
  X509* ca_cert = ca_certs->front().get();
  auto ca_key = ReadKey(ca.key_pem);
  if (!ca_key.ok()) return Status::InvalidArgument("tls: CA key: " + ca_key.status().message());
  const uint32_t flags = X509_get_extension_flags(ca_cert);
  if ((flags & EXFLAG_CA) == 0) return Status::InvalidArgument("tls: CA certificate lacks basicConstraints CA:TRUE");
  if ((flags & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(ca_cert) & KU_KEY_CERT_SIGN) == 0) {
    return Status::InvalidArgument("tls: CA certificate's keyUsage lacks keyCertSign");
  }
  if (X509_check_private_key(ca_cert, ca_key->get()) != 1) {
    return Status::InvalidArgument("tls: CA key does not match the CA certificate");
  }
  const auto ca_not_after = AsnTimeToUnix(X509_get0_notAfter(ca_cert));
  if (!ca_not_after) return Status::InvalidArgument("tls: CA certificate has an unreadable notAfter");
  if (now_t >= *ca_not_after) return Status::InvalidArgument("tls: CA certificate has expired");

  auto sans = SubjectAltNames(req.hosts);
  if (!sans.ok()) return sans.status();
  auto key = GenerateKey(req.alg);
  if (!key.ok()) return key.status();
  Cert cert(X509_new());
  if (!cert) return OpenSslError("X509_new");
  // A leaf outliving its CA would look valid to the rotation logic while no longer verifying.
  const time_t not_after = std::min<time_t>(now_t + req.validity.count(), *ca_not_after);
  CAIRN_RETURN_IF_ERROR(
      FillCommonFields(cert.get(), req.common_name, now_t - kBackdate.count(), not_after, key->get()));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert)) != 1) return OpenSslError("issuer name");
  CAIRN_RETURN_IF_ERROR(AddConfExtension(cert.get(), ca_cert, NID_basic_constraints, "critical,CA:FALSE"));
  CAIRN_RETURN_IF_ERROR(
      AddConfExtension(cert.get(), ca_cert, NID_key_usage, "critical,digitalSignature,keyEncipherment"));
  const char* eku = req.server_auth && req.client_auth ? "serverAuth,clientAuth"
                    : req.server_auth                   ? "serverAuth"
                                                        : "clientAuth";
  CAIRN_RETURN_IF_ERROR(AddConfExtension(cert.get(), ca_cert, NID_ext_key_usage, eku));
  if (sk_GENERAL_NAME_num(sans->get()) > 0 &&
      X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, sans->get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return OpenSslError("subjectAltName");
  }
  CAIRN_RETURN_IF_ERROR(AddConfExtension(cert.get(), ca_cert, NID_subject_key_identifier, "hash"));
  CAIRN_RETURN_IF_ERROR(AddAuthorityKeyId(cert.get(), ca_cert));
  if (X509_sign(cert.get(), ca_key->get(), EVP_sha256()) == 0) return OpenSslError("signing");
  return Encode(cert.get(), key->get());
}

Result<CertInfo> ParseCert(const std::string& pem) {
  const ClearErrorsOnExit clear;
  auto certs = ReadCerts(pem, /*first_only=*/true, /*strict=*/false);
  if (!certs.ok()) return certs.status();
  return Describe(certs->front().get());
}

Result<std::vector<CertInfo>> ParseBundle(const std::string& pem) {
  const ClearErrorsOnExit clear;
  auto certs = ReadCerts(pem, /*first_only=*/false, /*strict=*/true);
  if (!certs.ok()) return certs.status();
  std::vector<CertInfo> infos;
  infos.reserve(certs->size());
  for (const auto& c : *certs) {
    auto info = Describe(c.get());
    if (!info.ok()) return info.status();
    infos.push_back(std::move(info).value());
  }
  return infos;
}

bool VerifiesWith(const std::string& cert_pem, const std::string& ca_bundle_pem, TimePoint now) {
  const ClearErrorsOnExit clear;
  auto leaf = ReadCerts(cert_pem, /*first_only=*/true, /*strict=*/false);
  auto cas = ReadCerts(ca_bundle_pem, /*first_only=*/false, /*strict=*/true);
  if (!leaf.ok() || !cas.ok()) return false;
  Store store(X509_STORE_new());  // declared before ctx: ctx refers to it until destroyed
  if (!store) return false;
  for (const auto& ca : *cas) {
    if (X509_STORE_add_cert(store.get(), ca.get()) != 1) return false;  // takes its own reference
  }
  StoreCtx ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf->front().get(), nullptr) != 1) return false;
  // Sets X509_V_FLAG_USE_CHECK_TIME too: validity is judged at `now`, not the wall clock.
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()), UnixSeconds(now));
  return X509_verify_cert(ctx.get()) == 1;
}

bool KeyMatches(const std::string& cert_pem, const std::string& key_pem) {
  const ClearErrorsOnExit clear;
  auto cert = ReadCerts(cert_pem, /*first_only=*/true, /*strict=*/false);
  auto key = ReadKey(key_pem);
  return cert.ok() && key.ok() && X509_check_private_key(cert->front().get(), key->get()) == 1;
}

}  // namespace cairn::op::tls
