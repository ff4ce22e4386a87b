#include "operator/reconcile/certificates.h"

#include <algorithm>

#include "operator/api/naming.h"
#include "operator/api/time_format.h"

namespace cairn::op {

namespace {

// The certificates of the sides `chosen` picks: what "auto" issues and "certManager" asks for.
std::vector<CertificateSpec> CertificatesOf(const ClusterSpec& spec, bool (*chosen)(const TlsSide&)) {
  std::vector<CertificateSpec> out;
  const std::string& c = spec.name;
  const std::string& ns = spec.namespace_;
  const std::string members = "*." + naming::PeerService(c) + "." + ns + ".svc";
  if (chosen(spec.tls.client)) {
    const std::string svc = naming::ClientService(c);
    std::vector<std::string> hosts = {members,      members + ".cluster.local",
                                      svc,          svc + "." + ns,
                                      svc + "." + ns + ".svc", svc + "." + ns + ".svc.cluster.local",
                                      "localhost",  "127.0.0.1"};
    hosts.insert(hosts.end(), spec.tls.client.extra_sans.begin(), spec.tls.client.extra_sans.end());
    out.push_back({"server", naming::CertSecret(c, "server"), c + "-server", hosts, true, false});
  }
  if (chosen(spec.tls.peer)) {
    out.push_back({"peer", naming::CertSecret(c, "peer"), c + "-peer",
                   {members, members + ".cluster.local", "localhost", "127.0.0.1"}, true, true});
  }
  if (chosen(spec.tls.client)) {
    out.push_back({"client", naming::CertSecret(c, "client"), c + "-client", {}, false, true});
    out.push_back({"operator", naming::CertSecret(c, "operator"), "cairn-operator", {}, false, true});
  }
  return out;
}

}  // namespace

std::vector<CertificateSpec> NeededCertificates(const ClusterSpec& spec) {
  return CertificatesOf(spec, [](const TlsSide& side) { return side.Auto(); });
}

std::vector<CertificateSpec> ManagedCertificates(const ClusterSpec& spec) {
  return CertificatesOf(spec, [](const TlsSide& side) { return side.cert_manager; });
}

std::optional<std::string> ManagedProblem(const CertificateSpec& want, const CertState& have, TimePoint now) {
  if (!have.exists) return "waiting for cert-manager to issue Secret " + want.secret + " (Certificate " + want.secret + ")";
  if (!have.valid) return "Secret " + want.secret + " from cert-manager holds no certificate with its key";
  if (have.ca_bundle.empty()) return "Secret " + want.secret + " from cert-manager has no ca.crt (use a CA issuer)";
  if (now >= have.not_after) return "the certificate in Secret " + want.secret + " expired at " + FormatTime(have.not_after);
  return std::nullopt;
}

std::vector<ProvidedCertificate> ProvidedCertificates(const ClusterSpec& spec) {
  std::vector<ProvidedCertificate> out;
  if (spec.tls.client.provided) {
    out.push_back({"server", spec.tls.client.secret_name});
    out.push_back({"operator", spec.tls.client.operator_secret_name});
  }
  if (spec.tls.peer.provided) out.push_back({"peer", spec.tls.peer.secret_name});
  return out;
}

std::optional<std::string> ProvidedProblem(const ProvidedCertificate& want, const CertState& have, TimePoint now) {
  const std::string what = "Secret " + want.secret + " (the " + want.use + " certificate)";
  if (!have.exists) return what + " does not exist";
  if (!have.valid) return what + " holds no certificate with its key (tls.crt, tls.key)";
  if (have.ca_bundle.empty()) return what + " has no ca.crt";
  if (now >= have.not_after) return what + " expired at " + FormatTime(have.not_after);
  return std::nullopt;
}

TimePoint RenewalTime(TimePoint not_before, TimePoint not_after) { return not_before + (not_after - not_before) * 2 / 3; }

std::string TrustBundle(const TlsState& tls) {
  if (tls.previous_ca.exists) return tls.previous_ca.cert_pem + tls.ca.cert_pem;
  if (tls.next_ca.exists) return tls.ca.cert_pem + tls.next_ca.cert_pem;
  return tls.ca.cert_pem;
}

std::optional<CertificateChange> NeededChange(const CertificateSpec& want, const CertState& have, const TlsState& tls,
                                              TimePoint now) {
  auto reissue = [](std::string why) { return CertificateChange{false, std::move(why)}; };
  if (!have.exists) return reissue("issuing the " + want.use + " certificate");
  if (!have.valid) return reissue("Secret " + want.secret + " holds no certificate with its key; issuing it again");
  if (have.authority_key_id != tls.ca.subject_key_id) {
    return reissue("the " + want.use + " certificate was signed by another CA");
  }
  std::vector<std::string> have_sans = have.sans, want_sans = want.hosts;
  std::sort(have_sans.begin(), have_sans.end());
  std::sort(want_sans.begin(), want_sans.end());
  if (have_sans != want_sans) return reissue("the names of the " + want.use + " certificate changed");
  if (now >= RenewalTime(have.not_before, have.not_after)) {
    return reissue("the " + want.use + " certificate (serial " + have.serial +
                   ") has lived two thirds of its life; renewing it");
  }
  if (have.ca_bundle != TrustBundle(tls)) {
    return CertificateChange{true, "updating the trust bundle (ca.crt) of the " + want.use + " certificate"};
  }
  return std::nullopt;
}

}  // namespace cairn::op
