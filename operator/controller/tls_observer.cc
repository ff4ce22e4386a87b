#include "operator/controller/tls_observer.h"

#include "operator/api/naming.h"
#include "operator/reconcile/ca_rotation.h"
#include "operator/reconcile/certificates.h"
#include "operator/tls/certs.h"

namespace cairn::op {
namespace {

ServedState Served(const Result<TlsProbe>& probe) {
  ServedState s;
  if (!probe.ok()) {
    s.error = probe.status().message();
    return s;
  }
  auto info = tls::ParseCert(probe->served_pem);
  if (!info.ok()) {
    s.error = "the served certificate does not parse: " + info.status().message();
    return s;
  }
  s.reached = true;
  s.serial = info->serial_hex;
  s.not_after = info->not_after;
  s.authority_key_id = info->authority_key_id_hex;
  s.accepted = probe->accepted;
  s.refusal = probe->refusal;
  return s;
}

// The probe's certificate for an auto side: issued now from the CA that matters.
ClientTls IssuedProbe(const ClusterSpec& spec, const nlohmann::json& ca_secret, const TlsState& tls, TimePoint now) {
  const bool next = PhaseOf(tls) == CaRotationPhase::kTrusting && tls.next_ca.valid;
  tls::LeafRequest req;
  req.common_name = "cairn-operator-probe";
  req.server_auth = false;
  req.client_auth = true;
  req.validity = std::chrono::hours(1);
  req.alg = spec.tls.rsa ? tls::KeyAlgorithm::kRsa2048 : tls::KeyAlgorithm::kEcdsaP256;
  ClientTls as;
  as.ca_pem = TrustBundle(tls);
  const tls::KeyPair signer{next ? tls.next_ca.cert_pem : tls.ca.cert_pem,
                            SecretDataValue(ca_secret, next ? kNextCaKey : kCaKey)};
  if (auto leaf = tls::IssueLeaf(signer, req, now); leaf.ok()) {
    as.cert_pem = leaf->cert_pem;
    as.key_pem = leaf->key_pem;
  }
  return as;
}

// The probe's certificate for a side the operator does not issue: the Secret's own,
// which members accept if the issuer's PKI is consistent.
ClientTls ProvidedProbe(const ChildObjects& children, const std::string& secret) {
  auto s = children.secrets.find(secret);
  return s == children.secrets.end() ? ClientTls{} : ClientTlsOf(s->second);
}

}  // namespace

ClientTls ClientTlsOf(const nlohmann::json& secret) {
  return {SecretDataValue(secret, "ca.crt"), SecretDataValue(secret, "tls.crt"), SecretDataValue(secret, "tls.key")};
}

void ProbeMemberTls(const ClusterSpec& spec, const ChildObjects& children, const std::vector<MemberState>& members,
                    Membership& membership, TimePoint now, ObservedState* observed) {
  TlsState& tls = observed->tls;
  std::optional<ClientTls> client_as, peer_as;
  if (spec.tls.AnyAuto()) {
    auto ca_secret = children.secrets.find(naming::CaSecret(spec.name));
    if (ca_secret != children.secrets.end() && tls.ca.valid) {
      const ClientTls issued = IssuedProbe(spec, ca_secret->second, tls, now);
      if (spec.tls.client.Auto()) client_as = issued;
      if (spec.tls.peer.Auto()) peer_as = issued;
    }
  }
  if (spec.tls.client.enabled && !spec.tls.client.Auto()) {
    client_as = ProvidedProbe(children, TlsSecretName(spec, "operator"));
  }
  if (spec.tls.peer.enabled && !spec.tls.peer.Auto()) peer_as = ProvidedProbe(children, TlsSecretName(spec, "peer"));
  for (const auto& m : members) {
    auto ord = naming::OrdinalFromPeerUrl(spec.name, m.peer_url);
    if (m.name.empty() || !ord) continue;
    MemberTlsState& state = tls.members[*ord];
    if (client_as) {
      state.client = Served(membership.ProbeTls(naming::MemberClientUrl(spec.name, spec.namespace_, *ord, true), *client_as));
    }
    // A member still advertising plaintext is moving to TLS (peer_listeners.h).
    if (peer_as && m.peer_url.rfind("https://", 0) == 0) state.peer = Served(membership.ProbeTls(m.peer_url, *peer_as));
  }
}

}  // namespace cairn::op
