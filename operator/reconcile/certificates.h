// Certificates: what a cluster's spec.tls needs the operator to issue, and when an issued
// certificate must be issued again. Pure; the planner decides with it and the executor
// issues from it, so both agree on every name and every rule.
//
// One CA per cluster (Secret <cluster>-ca) signs four leaf certificates, each in a
// Secret of its own with tls.crt, tls.key and ca.crt:
//   server   (client TLS): what members serve to clients. Wildcards cover every member's
//            pod name under the peer Service, so scaling needs no new certificate; plus
//            the client Service's names, localhost, 127.0.0.1 and spec.tls.client.extraSANs.
//   peer     (peer TLS): what members serve to, and present as clients to, each other.
//   client   (client TLS): for applications (documented: <cluster>-client-tls).
//   operator (client TLS): for the operator's own calls to the members.
// A leaf is issued again when it is missing or unreadable, was signed by another CA
// key, carries another CA bundle or other names than wanted, or has lived two thirds of
// its life (renewal ahead of expiry, as cert-manager does by default).
// Thread-safety: stateless.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "operator/api/cluster_spec.h"
#include "operator/reconcile/observed.h"

namespace cairn::op {

struct CertificateSpec {
  std::string use;     // "server", "peer", "client", "operator"
  std::string secret;  // naming::CertSecret(cluster, use)
  std::string common_name;
  std::vector<std::string> hosts;  // SANs, in this order
  bool server_auth = false;
  bool client_auth = false;
};

std::vector<CertificateSpec> NeededCertificates(const ClusterSpec& spec);

// Why `have` must be issued again (the event message); nullopt when it is fine.
std::optional<std::string> ReissueReason(const CertificateSpec& want, const CertState& have, const CertState& ca,
                                         TimePoint now);

// When a certificate valid over [not_before, not_after) is renewed.
TimePoint RenewalTime(TimePoint not_before, TimePoint not_after);

}  // namespace cairn::op
