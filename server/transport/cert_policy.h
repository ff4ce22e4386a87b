// CertPolicy: etcd's checks on a client (or peer) certificate that its chain already
// verified against the trusted CA, applied during the TLS handshake:
//   * crl_file (--client-crl-file / --peer-crl-file): a certificate whose serial number
//     the CRL lists is refused. As in etcd the file is read at each handshake, so
//     replacing it takes effect for new connections at once, and only serial numbers
//     are compared (etcd does not check the CRL's signature either). A CRL that cannot
//     be read or parsed refuses every certificate: failing open would admit revoked ones.
//   * allowed_cns / allowed_hostnames (--peer-cert-allowed-cn, --peer-cert-allowed-hostname,
//     --client-cert-allowed-hostname): when either is set, a certificate is accepted only
//     if its subject CN is one of allowed_cns or it is valid for one of allowed_hostnames
//     (a DNS or IP SAN), as etcd 3.5 decides.
// Every refusal is logged with the side, the certificate's CN and serial, and the reason.
// Thread-safety: Check is const and reentrant; the verifier may be called from any thread.
#pragma once

#include <grpcpp/security/tls_certificate_verifier.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/common/status.h"

namespace cairn::transport {

struct CertPolicy {
  std::string side = "client";  // "client" or "peer": names the listener in log lines
  std::string crl_file;
  std::vector<std::string> allowed_cns;
  std::vector<std::string> allowed_hostnames;

  bool Empty() const { return crl_file.empty() && allowed_cns.empty() && allowed_hostnames.empty(); }
  // OK, or PermissionDenied saying which rule refused the certificate (PEM).
  [[nodiscard]] Status Check(std::string_view cert_pem) const;
};

// A gRPC certificate verifier applying `policy` to each handshake's peer certificate.
std::shared_ptr<grpc::experimental::CertificateVerifier> PolicyVerifier(CertPolicy policy);

}  // namespace cairn::transport
