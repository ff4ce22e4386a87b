// A TLS probe: one connection to a member's https listener (client or peer) that tells
// the operator what the member serves and whether it accepts a given client certificate.
// The operator waits on both during certificate and CA rotation, because a Secret volume
// is updated by the kubelet seconds to minutes after the Secret, and only a handshake
// shows what a member has actually loaded.
//
// Acceptance needs more than a finished handshake: under TLS 1.3 the client finishes
// before the server has checked the client's certificate, and a refusal arrives as an
// alert afterwards. So the probe sends the HTTP/2 connection preface (every listener of
// a member speaks gRPC) and counts the certificate as accepted only once the member
// answers with data; an alert or a closed connection is a refusal, with its reason.
//
// Thread-safety: stateless; each call uses its own socket and OpenSSL objects and leaves
// the thread's OpenSSL error queue empty.
#pragma once

#include <chrono>
#include <string>

#include "server/common/status.h"

namespace cairn::op {

// PEM material for https endpoints: the CA bundle that verifies the members' serving
// certificates, and the operator's client certificate and key (mTLS).
struct ClientTls {
  std::string ca_pem;
  std::string cert_pem;  // optional (with key_pem): the certificate chain presented to members
  std::string key_pem;
  bool Enabled() const { return !ca_pem.empty(); }
};

struct TlsProbe {
  std::string served_pem;  // the certificate the listener serves (verified against ca_pem)
  bool accepted = false;   // it accepted the client certificate presented (false without one)
  std::string refusal;     // when not accepted: the alert or error that said so
};

// Connects to host:port (SNI and name check for a DNS name, an IP SAN check for an
// address), verifies the served certificate against `as.ca_pem` and presents
// `as.cert_pem`/`as.key_pem` when given. Connecting and the exchange end by `timeout`
// (name resolution is the system resolver's and is not bounded by it).
// Errors: InvalidArgument for unusable PEM material, FailedPrecondition without a CA,
// Unavailable when the connection or the handshake fails (a served certificate that does
// not verify included), DeadlineExceeded on timeout. A refused client certificate is not
// an error: the result says so.
Result<TlsProbe> ProbeTls(const std::string& host, const std::string& port, const ClientTls& as,
                          std::chrono::milliseconds timeout);

}  // namespace cairn::op
