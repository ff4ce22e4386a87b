// TLS for the client and peer listeners and for the connections a member makes, with
// certificates reloaded from their files while the member runs.
//
// A listen URL with https (or unixs) is served with TLS from cert_file/key_file; with
// client_cert_auth every client must present a certificate signed by a CA in
// trusted_ca_file (etcd's --client-cert-auth / --peer-client-cert-auth). http and unix
// URLs are served in plaintext. A verified client certificate must also pass the CRL
// and allowed CN/hostname checks of cert_policy.h. gRPC's file-watching certificate provider re-reads the
// files every kCertReloadSeconds, so rotating a certificate is replacing its files: new
// handshakes use the new one, established connections go on.
// Thread-safety: values; the credentials are thread-safe.
#pragma once

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>
#include <string_view>

#include "server/common/status.h"
#include "server/transport/cert_policy.h"

namespace cairn::transport {

inline constexpr unsigned kCertReloadSeconds = 1;

struct TlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string trusted_ca_file;
  bool client_cert_auth = false;
  // The certificate is self-signed (--auto-tls): peers dialed with it are not verified,
  // as there is no CA to verify them with (etcd's behaviour).
  bool self_signed = false;
  // Checked on every verified client certificate (so only with client_cert_auth).
  CertPolicy policy;
  // Peer side: do not check an incoming peer certificate's SANs against its address
  // (peer_san_check.h), etcd's --experimental-peer-skip-client-san-verification.
  bool skip_client_san_verification = false;

  bool Enabled() const { return !cert_file.empty() || !key_file.empty(); }
  // Both files are readable PEM (a certificate, a private key) and so is the CA file
  // if given; client_cert_auth needs a CA file. The error names the flag and file.
  Status Check(std::string_view flag_prefix) const;
};

// True for the URL schemes that are served and dialed with TLS.
bool IsSecureUrl(std::string_view url);

// REQUIRES: tls.Enabled() and tls.Check() passed.
std::shared_ptr<grpc::ServerCredentials> ServerTlsCredentials(const TlsFiles& tls);

// Credentials for dialing `url`: TLS for https (server verified against
// trusted_ca_file, or the system roots without one, or not at all when this member's
// own certificate is self-signed and it has no CA; this member's certificate as the
// client certificate when it has one), plaintext otherwise.
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFor(std::string_view url, const TlsFiles& tls);

}  // namespace cairn::transport
