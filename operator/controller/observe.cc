#include "operator/controller/observe.h"

#include <algorithm>
#include <ctime>

#include "operator/api/naming.h"
#include "operator/api/base64.h"
#include "operator/reconcile/certificates.h"
#include "operator/resources/builders.h"
#include "operator/tls/certs.h"

namespace cairn::op {
namespace {

using json = nlohmann::json;

std::string Annotation(const json& obj, const char* key) {
  const json& a = obj["metadata"].value("annotations", json::object());
  return a.contains(key) && a[key].is_string() ? a[key].get<std::string>() : "";
}

ChildState Child(const std::optional<json>& live, const json& desired) {
  ChildState s;
  s.exists = live.has_value();
  s.up_to_date = s.exists && Annotation(*live, naming::kAnnotationSpecHash) == Annotation(desired, naming::kAnnotationSpecHash);
  return s;
}

std::string Label(const json& obj, const char* key) {
  const json& l = obj["metadata"].value("labels", json::object());
  return l.contains(key) && l[key].is_string() ? l[key].get<std::string>() : "";
}

bool PodReady(const json& pod) {
  for (const auto& c : pod.value("status", json::object()).value("conditions", json::array())) {
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

CertState ParseSecret(const json& secret, const char* cert_key, const char* key_key) {
  CertState c;
  c.exists = true;
  const std::string cert = SecretDataValue(secret, cert_key);
  auto info = tls::ParseCert(cert);
  if (!info.ok() || !tls::KeyMatches(cert, SecretDataValue(secret, key_key))) return c;
  c.valid = true;
  c.serial = info->serial_hex;
  c.not_before = info->not_before;
  c.not_after = info->not_after;
  c.sans = info->dns_sans;
  c.sans.insert(c.sans.end(), info->ip_sans.begin(), info->ip_sans.end());
  c.subject_key_id = info->subject_key_id_hex;
  c.authority_key_id = info->authority_key_id_hex;
  c.ca_bundle = SecretDataValue(secret, "ca.crt");
  if (info->is_ca) c.cert_pem = cert;
  return c;
}

}  // namespace

json DesiredCertManagerCertificate(const ClusterSpec& spec, const CertificateSpec& want) {
  const TlsSide& side = want.use == "peer" ? spec.tls.peer : spec.tls.client;
  return resources::CertManagerCertificate(spec, want.secret, want.common_name, want.hosts, want.server_auth,
                                           want.client_auth, side.issuer);
}

std::string SecretDataValue(const json& secret, const char* key) {
  const json& data = secret.value("data", json::object());
  if (!data.contains(key) || !data[key].is_string()) return "";
  auto decoded = Base64Decode(data[key].get<std::string>());
  return decoded.ok() ? *decoded : "";
}

void ObserveCaSecret(const json& secret, TlsState* tls) {
  tls->ca = ParseSecret(secret, kCaCert, kCaKey);
  const json& data = secret.value("data", json::object());
  if (data.contains(kNextCaCert) || data.contains(kNextCaKey)) tls->next_ca = ParseSecret(secret, kNextCaCert, kNextCaKey);
  if (data.contains(kPreviousCaCert)) {
    const std::string pem = SecretDataValue(secret, kPreviousCaCert);
    auto info = tls::ParseCert(pem);
    tls->previous_ca.exists = true;
    tls->previous_ca.valid = info.ok() && info->is_ca;
    if (tls->previous_ca.valid) {
      tls->previous_ca.serial = info->serial_hex;
      tls->previous_ca.not_before = info->not_before;
      tls->previous_ca.not_after = info->not_after;
      tls->previous_ca.subject_key_id = info->subject_key_id_hex;
      tls->previous_ca.cert_pem = pem;
    }
  }
  tls->rotation_answered = Annotation(secret, naming::kAnnotationRotateCa);
  tls->rotation_started = ParseTime(Annotation(secret, naming::kAnnotationCaRotationStarted));
  tls->ca_switched = ParseTime(Annotation(secret, naming::kAnnotationCaSwitched));
}

namespace {

// The member container of a StatefulSet's pod template (null if there is none).
json MemberContainer(const json& sts) {
  for (const auto& c : sts["spec"]["template"]["spec"].value("containers", json::array())) {
    if (c.value("name", "") == "cairn") return c;
  }
  return nullptr;
}

std::string EnvOf(const json& container, const char* env_name) {
  for (const auto& e : container.value("env", json::array())) {
    if (e.value("name", "") == env_name) return e.value("value", "");
  }
  return "";
}

// Where the template's members listen for peers, as the start script reads it.
PeerListeners PeerListenersOf(const json& sts) {
  const json container = MemberContainer(sts);
  if (container.is_null()) return {};
  PeerListeners out;
  const std::string port = EnvOf(container, resources::kEnvPeerPort);
  const std::string scheme = EnvOf(container, resources::kEnvPeerScheme);
  out.advertised = PeerEndpoint::Parse((scheme.empty() ? "http" : scheme) + ":" + (port.empty() ? "2380" : port))
                       .value_or(PeerEndpoint{false, naming::kPeerPort});
  if (const std::string also = EnvOf(container, resources::kEnvPeerAlso); !also.empty()) out.also = PeerEndpoint::Parse(also);
  if (!out.AnyTls()) return out;
  for (const auto& v : sts["spec"]["template"]["spec"].value("volumes", json::array())) {
    if (v.value("name", "") == "tls-peer") out.tls_secret = v.value("secret", json::object()).value("secretName", "");
  }
  const json args = container.value("args", json::array());
  out.check_peer_san = std::find(args.begin(), args.end(), "--experimental-peer-skip-client-san-verification") == args.end();
  return out;
}

bool Terminating(const json& obj) { return obj["metadata"].contains("deletionTimestamp") && !obj["metadata"]["deletionTimestamp"].is_null(); }

TimePoint Created(const json& obj) { return ParseTime(obj["metadata"].value("creationTimestamp", "")); }

}  // namespace

bool TemplateServesClientTls(const json& sts) {
  return EnvOf(MemberContainer(sts), resources::kEnvClientScheme) == "https";
}

ClientSchemes PodClientSchemes(const std::string& cluster, const std::vector<json>& pods) {
  ClientSchemes out;
  for (const auto& pod : pods) {
    for (const auto& c : pod["spec"].value("containers", json::array())) {
      if (c.value("name", "") != "cairn") continue;
      const bool https = EnvOf(c, resources::kEnvClientScheme) == "https";
      (https ? out.https : out.http) = true;
      const json metadata = pod.value("metadata", json::object());
      if (auto ord = naming::OrdinalFromName(cluster, metadata.value("name", ""))) out.https_by_ordinal[*ord] = https;
    }
  }
  return out;
}

ObservedState ObserveObjects(const ClusterSpec& spec, const ChildObjects& c,
                             const Result<std::vector<MemberState>>& members) {
  ObservedState o;
  o.peer_service = Child(c.peer_service, resources::PeerService(spec));
  o.client_service = Child(c.client_service, resources::ClientService(spec));

  if (c.config_map) {
    o.config_map.exists = true;
    const json data = c.config_map->value("data", json::object());
    o.config_map.token = data.value(naming::kKeyToken, "");
    o.config_map.restore = data.value(naming::kKeyRestore, "");
    o.config_map.script_outdated = data.value(naming::kKeyScript, "") != resources::StartScript();
    const std::string suffix = ".initial-cluster";
    for (const auto& [key, value] : data.items()) {
      if (key.size() <= suffix.size() || key.compare(key.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
      const std::string member = key.substr(0, key.size() - suffix.size());
      MemberBootstrap b;
      b.initial_cluster = value.get<std::string>();
      b.state = data.value(naming::KeyState(member), "");
      b.member_id = data.value(naming::KeyMemberId(member), "");
      o.config_map.members[member] = b;
      if (data.contains(naming::KeyConfiguredAt(member))) {
        o.config_map.configured_at[member] = ParseTime(data.value(naming::KeyConfiguredAt(member), ""));
      }
    }
  }

  if (c.stateful_set) {
    const json& sts = *c.stateful_set;
    o.stateful_set.exists = true;
    o.stateful_set.replicas = sts["spec"].value("replicas", 1);
    o.stateful_set.ready_replicas = sts.value("status", json::object()).value("readyReplicas", 0);
    o.stateful_set.peer = PeerListenersOf(sts);
    const json status = sts.value("status", json::object());
    o.stateful_set.update_revision = status.value("updateRevision", "");
    o.stateful_set.revision_observed = !o.stateful_set.update_revision.empty() &&
                                       status.value("observedGeneration", int64_t{0}) >=
                                           sts["metadata"].value("generation", int64_t{1});
    o.stateful_set.template_changed_at = ParseTime(Annotation(sts, naming::kAnnotationTemplateChangedAt));
    o.stateful_set.client_tls = TemplateServesClientTls(sts);
  }
  if (c.pdb) {
    o.pdb.exists = true;
    const json& ma = (*c.pdb)["spec"].value("minAvailable", json(0));
    o.pdb.min_available = ma.is_number_integer() ? ma.get<int32_t>() : 0;
  }

  for (const auto& pod : c.pods) {
    auto ord = naming::OrdinalFromName(spec.name, pod["metadata"].value("name", ""));
    if (!ord) continue;
    o.pods[*ord] = PodState{true,
                            PodReady(pod),
                            Terminating(pod),
                            Created(pod),
                            pod["metadata"].value("uid", ""),
                            Label(pod, naming::kLabelRevision),
                            Label(pod, naming::kLabelVersion)};
    if (spec.storage.empty_dir) {
      o.volumes[*ord] = VolumeState{true, Annotation(pod, naming::kAnnotationMemberId), Created(pod)};
    }
  }
  if (!spec.storage.empty_dir) {
    for (const auto& pvc : c.pvcs) {
      const std::string name = pvc["metadata"].value("name", "");
      const std::string prefix = naming::VolumeClaimTemplate() + "-";
      if (name.rfind(prefix, 0) != 0) continue;
      auto ord = naming::OrdinalFromName(spec.name, name.substr(prefix.size()));
      if (!ord || name != naming::Pvc(spec.name, *ord)) continue;
      o.volumes[*ord] = VolumeState{true, Annotation(pvc, naming::kAnnotationMemberId), Created(pvc)};
    }
  }

  o.restore_secret = c.secrets.count(naming::RestoreSecret(spec.name)) > 0;
  if (auto ca = c.secrets.find(naming::CaSecret(spec.name)); ca != c.secrets.end()) ObserveCaSecret(ca->second, &o.tls);
  for (const auto& want : NeededCertificates(spec)) {
    if (auto leaf = c.secrets.find(want.secret); leaf != c.secrets.end()) {
      o.tls.leaves[want.use] = ParseSecret(leaf->second, "tls.crt", "tls.key");
    }
  }
  for (const auto& want : ManagedCertificates(spec)) {
    auto live = c.certificates.find(want.secret);
    o.tls.requests[want.use] = Child(live == c.certificates.end() ? std::nullopt : std::optional<json>(live->second),
                                     DesiredCertManagerCertificate(spec, want));
    if (auto leaf = c.secrets.find(want.secret); leaf != c.secrets.end()) {
      o.tls.leaves[want.use] = ParseSecret(leaf->second, "tls.crt", "tls.key");
    }
  }
  for (const auto& given : ProvidedCertificates(spec)) {
    if (auto leaf = c.secrets.find(given.secret); leaf != c.secrets.end()) {
      o.tls.leaves[given.use] = ParseSecret(leaf->second, "tls.crt", "tls.key");
    }
  }

  if (members.ok()) {
    o.members = *members;
  } else {
    o.member_list_error = members.status().message();
  }
  if (c.stateful_set) {
    // Up to date with what this pass wants, which for the peer listeners depends on the
    // member list too (peer_listeners.h).
    const json desired = resources::StatefulSet(spec, o.stateful_set.replicas, DesiredPeerListeners(spec, o));
    o.stateful_set.template_up_to_date =
        Annotation(*c.stateful_set, naming::kAnnotationSpecHash) == Annotation(desired, naming::kAnnotationSpecHash);
  }
  return o;
}

}  // namespace cairn::op
