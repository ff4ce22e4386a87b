#include "operator/controller/tls_observer.h"

#include "operator/api/base64.h"
#include "operator/api/naming.h"
#include "operator/reconcile/ca_rotation.h"
#include "operator/reconcile/certificates.h"
#include "operator/tls/certs.h"

namespace cairn::op {
namespace {

std::string SecretField(const nlohmann::json& secret, const char* key) {
  const nlohmann::json& data = secret.value("data", nlohmann::json::object());
  if (!data.contains(key) || !data[key].is_string()) return "";
  auto decoded = Base64Decode(data[key].get<std::string>());
  return decoded.ok() ? *decoded : "";
}

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

}  // namespace

void ProbeMemberTls(const ClusterSpec& spec, const ChildObjects& children, const std::vector<MemberState>& members,
                    Membership& membership, TimePoint now, ObservedState* observed) {
  TlsState& tls = observed->tls;
  auto ca_secret = children.secrets.find(naming::CaSecret(spec.name));
  if (!spec.tls.Any() || ca_secret == children.secrets.end() || !tls.ca.valid) return;
  const bool next = PhaseOf(tls) == CaRotationPhase::kTrusting && tls.next_ca.valid;
  const std::string signer_cert = next ? tls.next_ca.cert_pem : tls.ca.cert_pem;
  const std::string signer_key = SecretField(ca_secret->second, next ? kNextCaKey : kCaKey);
  tls::LeafRequest req;
  req.common_name = "cairn-operator-probe";
  req.server_auth = false;
  req.client_auth = true;
  req.validity = std::chrono::hours(1);
  req.alg = spec.tls.rsa ? tls::KeyAlgorithm::kRsa2048 : tls::KeyAlgorithm::kEcdsaP256;
  ClientTls as;
  as.ca_pem = TrustBundle(tls);
  if (auto leaf = tls::IssueLeaf({signer_cert, signer_key}, req, now); leaf.ok()) {
    as.cert_pem = leaf->cert_pem;
    as.key_pem = leaf->key_pem;
  }
  for (const auto& m : members) {
    auto ord = naming::OrdinalFromPeerUrl(spec.name, m.peer_url);
    if (m.name.empty() || !ord) continue;
    MemberTlsState& state = tls.members[*ord];
    if (spec.tls.client.enabled) {
      state.client = Served(membership.ProbeTls(naming::MemberClientUrl(spec.name, spec.namespace_, *ord, true), as));
    }
    if (spec.tls.peer.enabled) state.peer = Served(membership.ProbeTls(m.peer_url, as));
  }
}

}  // namespace cairn::op
