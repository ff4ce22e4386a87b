#include "operator/reconcile/ca_rotation.h"

#include <functional>

#include "operator/api/naming.h"
#include "operator/api/time_format.h"
#include "operator/reconcile/certificates.h"

namespace cairn::op {
namespace {

using Kind = CaRotationStep::Kind;

CaRotationStep Step(Kind kind, std::string reason, std::string message) {
  return {kind, std::move(reason), std::move(message)};
}

// What is wrong on the listeners of member `ord` that a rotation step waits for: its
// peer listener, then its client listener when `check_client`. `wrong` names what is
// wrong with what one listener showed (empty: fine), given the member and listener.
// Empty when every such listener answered and is fine.
std::string Unready(const ClusterSpec& spec, const MemberTlsState* m, int ord, bool check_client,
                    const std::function<std::string(const ServedState&, const std::string& on)>& wrong) {
  const std::string name = naming::Member(spec.name, ord);
  if (m == nullptr) return name + " was not probed";
  auto check = [&](const std::optional<ServedState>& side, const char* listener) -> std::string {
    if (!side) return "";
    if (!side->reached) return name + "'s " + listener + " listener does not answer: " + side->error;
    const std::string why = wrong(*side, std::string(" on its ") + listener + " listener");
    return why.empty() ? "" : name + why;
  };
  if (spec.tls.peer.Auto()) {
    if (auto why = check(m->peer, "peer"); !why.empty()) return why;
  }
  return check_client ? check(m->client, "client") : "";
}

// Why member `ord` does not yet trust the next CA on a listener that checks client
// certificates.
std::string NotTrusting(const ClusterSpec& spec, const MemberTlsState* m, int ord) {
  return Unready(spec, m, ord, spec.tls.client.Auto() && spec.tls.client.client_cert_auth,
                 [](const ServedState& s, const std::string& on) {
                   return s.accepted ? "" : " does not trust the new CA" + on + " yet (" + s.refusal + ")";
                 });
}

// Why member `ord` does not yet serve certificates of the CA with key `ca_key`.
std::string NotServing(const ClusterSpec& spec, const MemberTlsState* m, int ord, const std::string& ca_key) {
  return Unready(spec, m, ord, spec.tls.client.Auto(), [&](const ServedState& s, const std::string& on) {
    return s.authority_key_id == ca_key ? ""
                                        : " still serves a certificate of the previous CA" + on + " (serial " + s.serial + ")";
  });
}

const MemberTlsState* Probed(const TlsState& tls, int ord) {
  auto it = tls.members.find(ord);
  return it == tls.members.end() ? nullptr : &it->second;
}

}  // namespace

CaRotationPhase PhaseOf(const TlsState& tls) {
  if (tls.previous_ca.exists) return CaRotationPhase::kSwitched;
  if (tls.next_ca.exists) return CaRotationPhase::kTrusting;
  return CaRotationPhase::kNone;
}

CaRotationStep PlanCaRotation(const ClusterSpec& spec, const TlsState& tls, const std::vector<int>& started,
                              TimePoint now, std::chrono::seconds grace) {
  switch (PhaseOf(tls)) {
    case CaRotationPhase::kNone: {
      if (!spec.tls.rotate_ca_request.empty() && spec.tls.rotate_ca_request != tls.rotation_answered) {
        return Step(Kind::kStart, "RotatingCertificateAuthority",
                    "annotation " + std::string(naming::kAnnotationRotateCa) + "=" + spec.tls.rotate_ca_request +
                        " asks for a new CA; adding it to every trust bundle");
      }
      if (now >= RenewalTime(tls.ca.not_before, tls.ca.not_after)) {
        return Step(Kind::kStart, "RotatingCertificateAuthority",
                    "the CA (serial " + tls.ca.serial + ", expires " + FormatTime(tls.ca.not_after) +
                        ") has lived two thirds of its life; adding a new CA to every trust bundle");
      }
      return {};
    }
    case CaRotationPhase::kTrusting: {
      for (int ord : started) {
        if (auto why = NotTrusting(spec, Probed(tls, ord), ord); !why.empty()) {
          return Step(Kind::kWait, "RotatingCertificateAuthority", "waiting before the new CA signs: " + why);
        }
      }
      if (now < tls.rotation_started + grace) {
        return Step(Kind::kWait, "RotatingCertificateAuthority",
                    "every member trusts the new CA; applications have until " +
                        FormatTime(tls.rotation_started + grace) + " to reload " +
                        naming::CertSecret(spec.name, "client") + "'s ca.crt before the new CA signs");
      }
      return Step(Kind::kSwitch, "RotatingCertificateAuthority",
                  "every member trusts the new CA; it now signs, and every certificate is reissued from it");
    }
    case CaRotationPhase::kSwitched: {
      for (int ord : started) {
        if (auto why = NotServing(spec, Probed(tls, ord), ord, tls.ca.subject_key_id); !why.empty()) {
          return Step(Kind::kWait, "RotatingCertificateAuthority", "waiting before the previous CA is dropped: " + why);
        }
      }
      if (now < tls.ca_switched + grace) {
        return Step(Kind::kWait, "RotatingCertificateAuthority",
                    "every member serves the new CA's certificates; applications have until " +
                        FormatTime(tls.ca_switched + grace) + " to reload " +
                        naming::CertSecret(spec.name, "client") + " before the previous CA is dropped");
      }
      return Step(Kind::kFinish, "RotatingCertificateAuthority",
                  "every member serves the new CA's certificates; dropping the previous CA from every trust bundle");
    }
  }
  return {};
}

}  // namespace cairn::op
