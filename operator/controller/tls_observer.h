// What each started member of a TLS cluster serves and trusts, seen by connecting to its
// client and peer listeners (tls_probe.h): the served certificates for status, and the
// evidence ca_rotation.h waits for. The kubelet updates mounted Secrets late and the
// member reloads them later still, so only a handshake tells what a member uses.
//
// On a side whose source is "auto" the probe presents a short-lived client certificate
// the operator issues in memory from the CA Secret (from the next CA while a rotation
// waits for members to trust it, else from the CA) and verifies what members serve
// against TrustBundle. On a side whose source is "secret" or "certManager" it presents
// the operator's Secret (client side) or the peer Secret (peer side) and verifies with
// its ca.crt.
// Thread-safety: stateless; calls `membership` from the calling thread.
#pragma once

#include <vector>

#include "operator/controller/membership.h"
#include "operator/controller/observe.h"

namespace cairn::op {

// A TLS Secret (tls.crt, tls.key, ca.crt) as the certificate a client presents and the
// CA bundle it verifies with.
ClientTls ClientTlsOf(const nlohmann::json& secret);

// REQUIRES: observed->tls was filled from the CA Secret (ObserveObjects).
// Fills observed->tls.members for every member in `members` that has started.
void ProbeMemberTls(const ClusterSpec& spec, const ChildObjects& children, const std::vector<MemberState>& members,
                    Membership& membership, TimePoint now, ObservedState* observed);

}  // namespace cairn::op
