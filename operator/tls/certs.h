// X.509 for the operator: makes the cluster CA and the member/client leaf certificates it
// signs, and reads certificates back so the reconciler can decide when to rotate them.
//
// Thread-safety: every function is stateless and may be called from any thread (OpenSSL 3
// needs no global locking setup). Each call leaves the calling thread's OpenSSL error queue
// empty, so a failure here cannot be misreported by a later, unrelated TLS call.
//
// Invariants:
//  - Every time is derived from the `now` argument, never from the system clock, so the
//    reconciler stays a deterministic function of its inputs and tests can move time.
//  - Certificates are backdated 5 minutes: the operator's clock and the members' clocks
//    disagree a little, and a certificate a member thinks is "not yet valid" breaks the
//    cluster just as surely as an expired one.
//  - A leaf never outlives the CA that signed it (its notAfter is capped at the CA's), so
//    checking the CA's expiry is enough to know when everything must be reissued.
//  - Validity is half-open, [not_before, not_after): at exactly not_after a certificate no
//    longer verifies, which is what OpenSSL's X509_cmp_time implements.
//  - Output is PEM: certificates as "CERTIFICATE", private keys as PKCS#8 "PRIVATE KEY"
//    (unencrypted), the forms both Go (etcd clients) and OpenSSL (Cairn members) read.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "operator/reconcile/observed.h"
#include "server/common/status.h"

namespace cairn::op::tls {

struct KeyPair {
  std::string cert_pem;
  std::string key_pem;
};

enum class KeyAlgorithm { kEcdsaP256, kRsa2048 };

struct CertInfo {
  std::string serial_hex;  // uppercase hex, no leading zeros stripped beyond BN_bn2hex
  TimePoint not_before, not_after;
  // The last CN of the name, as Go's crypto/x509 reports it; empty when there is none.
  std::string subject_cn, issuer_cn;
  std::vector<std::string> dns_sans, ip_sans;  // in certificate order; IPs in text form
  bool is_ca = false;                          // basicConstraints CA:TRUE
  std::string subject_key_id_hex, authority_key_id_hex;  // uppercase hex; empty when absent
};

// A self-signed CA certificate (basicConstraints critical CA:TRUE, keyUsage critical
// keyCertSign,cRLSign,digitalSignature; subjectKeyIdentifier), valid
// [now - 5 min, now + validity) (backdated to tolerate clock skew between the operator and
// members). Fails with InvalidArgument on an empty common_name or a non-positive validity.
Result<KeyPair> MakeCa(const std::string& common_name, std::chrono::seconds validity, TimePoint now,
                       KeyAlgorithm alg);

struct LeafRequest {
  // The empty braces keep designated initializers that omit these ({.common_name = "x"})
  // clear of GCC's -Wmissing-field-initializers, an error under -Werror.
  std::string common_name{};
  // IP addresses become IP SANs, anything else DNS SANs (wildcards allowed, e.g.
  // "*.c-peer.ns.svc"). A name that is neither an IP nor a DNS name is InvalidArgument.
  std::vector<std::string> hosts{};
  bool server_auth = true;
  bool client_auth = true;
  std::chrono::seconds validity{std::chrono::hours(24 * 90)};
  KeyAlgorithm alg = KeyAlgorithm::kEcdsaP256;
};

// A leaf signed by `ca` (basicConstraints CA:FALSE, keyUsage digitalSignature,keyEncipherment,
// extendedKeyUsage from server_auth/client_auth, SANs, subjectKeyIdentifier,
// authorityKeyIdentifier from the CA), random 128-bit positive serial, valid
// [now - 5 min, min(now + validity, CA's notAfter)) — a leaf never outlives its CA.
// Fails with InvalidArgument when ca is not a parseable CA cert + matching key, when the CA
// has expired at `now`, or when the request is unusable (empty common_name, neither
// server_auth nor client_auth, non-positive validity, a malformed host).
Result<KeyPair> IssueLeaf(const KeyPair& ca, const LeafRequest& req, TimePoint now);

// The first certificate of a PEM text (other PEM blocks before it, e.g. a key, are skipped).
Result<CertInfo> ParseCert(const std::string& pem);

// Every certificate of a PEM bundle (e.g. a ca.crt holding old and new CA during rotation),
// in order; error if none or any is malformed. A non-certificate PEM block is an error too:
// a bundle that is only partly certificates was assembled wrongly, and silently dropping
// part of it would drop trust in a CA.
Result<std::vector<CertInfo>> ParseBundle(const std::string& pem);

// True when `cert_pem`'s first certificate verifies with one of the CAs in `ca_bundle_pem`
// (signature and validity at `now`, using an X509_STORE with X509_V_FLAG_USE_CHECK_TIME /
// X509_VERIFY_PARAM_set_time). The bundle's certificates are trust anchors and must be
// self-signed roots (no partial chains). False when either input does not parse.
bool VerifiesWith(const std::string& cert_pem, const std::string& ca_bundle_pem, TimePoint now);

// True when key_pem is the private key of cert_pem's public key.
bool KeyMatches(const std::string& cert_pem, const std::string& key_pem);

}  // namespace cairn::op::tls
