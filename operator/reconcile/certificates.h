// Certificates: what a cluster's spec.tls needs the operator to issue (or the user to
// provide), and when an issued certificate must be issued again. Pure; the planner decides with it and the executor
// issues from it, so both agree on every name and every rule.
//
// One CA per cluster (Secret <cluster>-ca, keys kCaCert and kCaKey; during a CA rotation
// also kNextCaCert/kNextCaKey or kPreviousCaCert, see ca_rotation.h) signs four leaf
// certificates, each in a Secret of its own with tls.crt, tls.key and ca.crt (the trust
// bundle: the CA, plus the other CA while a rotation is under way):
//   server   (client TLS): what members serve to clients. Wildcards cover every member's
//            pod name under the peer Service, so scaling needs no new certificate; plus
//            the client Service's names, localhost, 127.0.0.1 and spec.tls.client.extraSANs.
//   peer     (peer TLS): what members serve to, and present as clients to, each other.
//   client   (client TLS): for applications (documented: <cluster>-client-tls).
//   operator (client TLS): for the operator's own calls to the members.
// A leaf is issued again when it is missing or unreadable, was signed by another CA
// key than the CA's, carries other names than wanted, or has lived two thirds of its
// life (renewal ahead of expiry, as cert-manager does by default). A leaf that is fine
// but carries another bundle only has its ca.crt rewritten: its holder keeps its key.
// Thread-safety: stateless.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "operator/api/cluster_spec.h"
#include "operator/reconcile/observed.h"

namespace cairn::op {

// Keys of the CA Secret.
inline constexpr const char* kCaCert = "ca.crt";
inline constexpr const char* kCaKey = "ca.key";
inline constexpr const char* kNextCaCert = "next.crt";
inline constexpr const char* kNextCaKey = "next.key";
inline constexpr const char* kPreviousCaCert = "previous.crt";

struct CertificateSpec {
  std::string use;     // "server", "peer", "client", "operator"
  std::string secret;  // naming::CertSecret(cluster, use)
  std::string common_name;
  std::vector<std::string> hosts;  // SANs, in this order
  bool server_auth = false;
  bool client_auth = false;
};

// What the operator issues: the certificates of the sides whose source is "auto".
std::vector<CertificateSpec> NeededCertificates(const ClusterSpec& spec);

// The same certificates for the sides whose source is "certManager": the operator writes
// one cert-manager Certificate per entry (named like its Secret), cert-manager issues
// and renews the Secret, with ca.crt from the issuer.
std::vector<CertificateSpec> ManagedCertificates(const ClusterSpec& spec);

// What is wrong with a Secret cert-manager should have written; nullopt when usable.
std::optional<std::string> ManagedProblem(const CertificateSpec& want, const CertState& have, TimePoint now);

// The Secrets of the sides whose source is "secret": the user's, used as they are and
// renewed by the user (the kubelet delivers a change; members reload it). Uses "server"
// and "operator" (client side), "peer".
struct ProvidedCertificate {
  std::string use;
  std::string secret;
};
std::vector<ProvidedCertificate> ProvidedCertificates(const ClusterSpec& spec);

// What is wrong with a provided certificate as observed (`have`: its Secret parsed, see
// CertState): missing, without its key, without ca.crt, or expired; nullopt when usable.
std::optional<std::string> ProvidedProblem(const ProvidedCertificate& want, const CertState& have, TimePoint now);


// What every leaf's ca.crt holds: the previous CA and the CA, or the CA and the next
// CA, or the CA alone. Old before new in both halves of a rotation, so the switch
// between them leaves the bundle byte for byte as it was.
std::string TrustBundle(const TlsState& tls);

struct CertificateChange {
  bool bundle_only = false;  // only ca.crt must change
  std::string reason;        // the event message
};

// What must change about `have` so that it is `want`, issued by tls.ca and carrying
// TrustBundle(tls); nullopt when it is fine.
std::optional<CertificateChange> NeededChange(const CertificateSpec& want, const CertState& have, const TlsState& tls,
                                              TimePoint now);

// When a certificate valid over [not_before, not_after) is renewed.
TimePoint RenewalTime(TimePoint not_before, TimePoint not_after);

}  // namespace cairn::op
