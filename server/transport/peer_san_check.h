// PeerSanCheck: etcd's check of an incoming peer's certificate against the address the
// peer connects from (etcd 3.4 pkg/transport listener_tls.go, checkSAN), on every call
// to the peer service. A certificate stolen from one member cannot be used from another
// host: the connection's remote address must be one the certificate names.
//
//   * no certificate (plaintext), or a certificate with neither IP nor DNS SANs: allowed;
//   * the remote IP is one of the IP SANs: allowed;
//   * otherwise, with DNS SANs, a reverse lookup of the remote IP must give a name equal
//     to a DNS SAN or under a wildcard one ("*.peers.ns.svc" takes "m-0.peers.ns.svc"),
//     or a forward lookup of a non-wildcard DNS SAN must give the remote IP;
//   * anything else is refused (PermissionDenied, logged with the certificate's CN,
//     serial and the reason), as etcd refuses the handshake.
// Acceptances are cached per (remote IP, certificate), so lookups happen once per peer,
// not per call; the cache is bounded. Refusals are not: a new pod's reverse DNS record
// appears a little after the pod starts connecting, and it must get in once it does.
// Thread-safety: Check and CheckCall may be called concurrently.
#pragma once

#include <grpcpp/server_context.h>

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "server/common/status.h"

namespace cairn::transport {

class PeerSanCheck {
 public:
  // Name resolution, a seam for tests: the names of an address, the addresses of a name.
  struct Resolver {
    std::function<std::vector<std::string>(const std::string& ip)> reverse;
    std::function<std::vector<std::string>(const std::string& name)> forward;
  };
  static Resolver SystemResolver();

  explicit PeerSanCheck(Resolver resolver = SystemResolver()) : resolver_(std::move(resolver)) {}

  // `cert_pem`: the peer's certificate (empty: none was presented); `remote_ip`: the
  // address it connects from, in text form.
  Status Check(const std::string& cert_pem, const std::string& remote_ip);
  // The same for a call: the certificate from its auth context, the address from
  // ServerContext::peer() ("ipv4:127.0.0.1:5000", "ipv6:[::1]:5000").
  Status CheckCall(const grpc::ServerContext& context);

 private:
  static constexpr size_t kMaxCached = 1024;
  Status Decide(const std::string& cert_pem, const std::string& remote_ip);

  const Resolver resolver_;
  std::mutex mu_;
  std::map<std::string, bool> accepted_;  // guarded by mu_; by remote IP + certificate
};

}  // namespace cairn::transport
