#include "operator/controller/executor.h"

#include "operator/api/base64.h"
#include "operator/api/naming.h"
#include "operator/api/time_format.h"
#include "operator/controller/observe.h"
#include "operator/kube/conflict_retry.h"
#include "operator/reconcile/certificates.h"
#include "operator/reconcile/planner.h"
#include "operator/reconcile/status_builder.h"
#include "operator/resources/builders.h"
#include "operator/tls/certs.h"

namespace cairn::op {
namespace {

using json = nlohmann::json;
namespace types = kube::types;

Status Ok(const Result<json>& r) { return r.ok() ? Status::Ok() : r.status(); }

Status CreateIdempotent(kube::Client& c, const kube::ResourceType& type, const ClusterSpec& spec, const json& obj) {
  auto r = c.Create(type, spec.namespace_, obj);
  if (!r.ok() && r.status().code() == StatusCode::kAlreadyExists) return Status::Ok();
  return Ok(r);
}

Status DeleteIdempotent(kube::Client& c, const kube::ResourceType& type, const ClusterSpec& spec, const std::string& name) {
  Status s = c.Delete(type, spec.namespace_, name);
  return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
}

// Desired labels, annotations, owner references and spec fields over the live object.
bool MergeDesired(json& live, const json& desired) {
  json before = live;
  for (const char* f : {"labels", "annotations"}) {
    if (desired["metadata"].contains(f)) {
      for (const auto& [k, v] : desired["metadata"][f].items()) live["metadata"][f][k] = v;
    }
  }
  live["metadata"]["ownerReferences"] = desired["metadata"]["ownerReferences"];
  for (const auto& [k, v] : desired["spec"].items()) live["spec"][k] = v;
  return live != before;
}

Status UpdateMerged(kube::Client& c, const kube::ResourceType& type, const ClusterSpec& spec, const json& desired) {
  return Ok(kube::UpdateWithRetry(c, type, spec.namespace_, desired["metadata"]["name"].get<std::string>(),
                                  [&](json& live) { return MergeDesired(live, desired); }));
}

std::map<std::string, MemberBootstrap> BootstrapMembers(const ClusterSpec& spec, const Action& a) {
  std::map<std::string, MemberBootstrap> out;
  for (int i = 0; i < a.replicas; ++i) out[naming::Member(spec.name, i)] = MemberBootstrap{a.initial_cluster, a.state, ""};
  return out;
}

Status EditConfigMap(kube::Client& c, const ClusterSpec& spec, const std::function<void(json& data)>& edit) {
  return Ok(kube::UpdateWithRetry(c, types::ConfigMap(), spec.namespace_, naming::ConfigMap(spec.name), [&](json& cm) {
    json before = cm;
    if (!cm.contains("data")) cm["data"] = json::object();
    edit(cm["data"]);
    return cm != before;
  }));
}

tls::KeyAlgorithm KeyAlgorithmOf(const ClusterSpec& spec) {
  return spec.tls.rsa ? tls::KeyAlgorithm::kRsa2048 : tls::KeyAlgorithm::kEcdsaP256;
}

Result<CertificateSpec> Wanted(const ClusterSpec& spec, const std::string& use) {
  for (auto& cert : NeededCertificates(spec)) {
    if (cert.use == use) return cert;
  }
  return Status::InvalidArgument("no certificate \"" + use + "\" is needed");
}

// The CA Secret as it is now: its raw data, and its parsed state (for the bundle).
struct CaSecretNow {
  json data;
  TlsState tls;
};
Result<CaSecretNow> ReadCaSecret(kube::Client& c, const ClusterSpec& spec) {
  auto secret = c.Get(types::Secret(), spec.namespace_, naming::CaSecret(spec.name));
  if (!secret.ok()) return secret.status();
  CaSecretNow now;
  now.data = secret->value("data", json::object());
  ObserveCaSecret(*secret, &now.tls);
  if (!now.tls.ca.valid) return Status::FailedPrecondition("Secret " + naming::CaSecret(spec.name) + " holds no usable CA");
  return now;
}

// Replaces a leaf Secret's data, or creates the Secret.
Status WriteLeafSecret(kube::Client& c, const ClusterSpec& spec, const json& secret) {
  auto created = c.Create(types::Secret(), spec.namespace_, secret);
  if (created.ok() || created.status().code() != StatusCode::kAlreadyExists) return Ok(created);
  return Ok(kube::UpdateWithRetry(c, types::Secret(), spec.namespace_, secret["metadata"]["name"].get<std::string>(),
                                  [&](json& live) {
                                    const json before = live;
                                    live["data"] = secret["data"];  // the type stays: the API server refuses to change it
                                    return live != before;
                                  }));
}

// Issues one certificate of certificates.h from the CA Secret as it is now, into its own
// Secret (created, or its data replaced).
Status IssueCertificate(kube::Client& c, const ClusterSpec& spec, const Action& a) {
  auto want = Wanted(spec, a.certificate);
  if (!want.ok()) return want.status();
  auto ca = ReadCaSecret(c, spec);
  if (!ca.ok()) return ca.status();
  tls::LeafRequest req;
  req.common_name = want->common_name;
  req.hosts = want->hosts;
  req.server_auth = want->server_auth;
  req.client_auth = want->client_auth;
  req.validity = spec.tls.certificate_validity;
  req.alg = KeyAlgorithmOf(spec);
  auto key = Base64Decode(ca->data.value(kCaKey, ""));
  if (!key.ok()) return Status::InvalidArgument("Secret " + naming::CaSecret(spec.name) + " is not base64");
  auto leaf = tls::IssueLeaf({ca->tls.ca.cert_pem, *key}, req, a.at);
  if (!leaf.ok()) return leaf.status();
  return WriteLeafSecret(
      c, spec, resources::CertSecret(spec, want->secret, leaf->cert_pem, leaf->key_pem, TrustBundle(ca->tls)));
}

// Rewrites only a leaf Secret's ca.crt, to the bundle the CA Secret implies now.
Status UpdateTrustBundle(kube::Client& c, const ClusterSpec& spec, const Action& a) {
  auto want = Wanted(spec, a.certificate);
  if (!want.ok()) return want.status();
  auto ca = ReadCaSecret(c, spec);
  if (!ca.ok()) return ca.status();
  const std::string bundle = Base64Encode(TrustBundle(ca->tls));
  return Ok(kube::UpdateWithRetry(c, types::Secret(), spec.namespace_, want->secret, [&](json& live) {
    const json before = live;
    live["data"]["ca.crt"] = bundle;
    return live != before;
  }));
}

// One step of ca_rotation.h on the CA Secret. `edit` changes its data and annotations
// and returns false when the step is already taken (a retry after a crash or conflict).
Status EditCaSecret(kube::Client& c, const ClusterSpec& spec, const std::function<bool(json& data, json& annotations)>& edit) {
  return Ok(kube::UpdateWithRetry(c, types::Secret(), spec.namespace_, naming::CaSecret(spec.name), [&](json& live) {
    json& data = live["data"];
    json& annotations = live["metadata"]["annotations"];
    if (annotations.is_null()) annotations = json::object();
    return edit(data, annotations);
  }));
}

Status StartCaRotation(kube::Client& c, const ClusterSpec& spec, const Action& a) {
  auto next = tls::MakeCa(spec.name + "-ca", spec.tls.ca_validity, a.at, KeyAlgorithmOf(spec));
  if (!next.ok()) return next.status();
  return EditCaSecret(c, spec, [&](json& data, json& annotations) {
    if (data.contains(kNextCaCert) || data.contains(kPreviousCaCert)) return false;
    data[kNextCaCert] = Base64Encode(next->cert_pem);
    data[kNextCaKey] = Base64Encode(next->key_pem);
    annotations[naming::kAnnotationRotateCa] = spec.tls.rotate_ca_request;
    annotations[naming::kAnnotationCaRotationStarted] = FormatTime(a.at);
    return true;
  });
}

Status SwitchCa(kube::Client& c, const ClusterSpec& spec, const Action& a) {
  return EditCaSecret(c, spec, [&](json& data, json& annotations) {
    if (!data.contains(kNextCaCert) || !data.contains(kNextCaKey)) return false;
    data[kPreviousCaCert] = data[kCaCert];
    data[kCaCert] = data[kNextCaCert];
    data[kCaKey] = data[kNextCaKey];
    data.erase(kNextCaCert);
    data.erase(kNextCaKey);
    annotations[naming::kAnnotationCaSwitched] = FormatTime(a.at);
    return true;
  });
}

Status ApplyCertManagerCertificate(kube::Client& c, const ClusterSpec& spec, const Action& a) {
  for (const auto& want : ManagedCertificates(spec)) {
    if (want.use != a.certificate) continue;
    const json desired = DesiredCertManagerCertificate(spec, want);
    auto created = c.Create(types::CertManagerCertificate(), spec.namespace_, desired);
    if (created.ok()) return Status::Ok();
    if (created.status().code() == StatusCode::kNotFound) {
      return Status::FailedPrecondition("cert-manager's Certificate API (cert-manager.io/v1) is not installed: " +
                                        created.status().message());
    }
    if (created.status().code() != StatusCode::kAlreadyExists) return created.status();
    return UpdateMerged(c, types::CertManagerCertificate(), spec, desired);
  }
  return Status::InvalidArgument("no cert-manager certificate \"" + a.certificate + "\" is needed");
}

Status FinishCaRotation(kube::Client& c, const ClusterSpec& spec) {
  return EditCaSecret(c, spec, [&](json& data, json& annotations) {
    if (!data.contains(kPreviousCaCert)) return false;
    data.erase(kPreviousCaCert);
    annotations.erase(naming::kAnnotationCaRotationStarted);
    annotations.erase(naming::kAnnotationCaSwitched);
    return true;
  });
}

}  // namespace

Status ExecuteAction(kube::Client& c, Membership& membership, const ClusterSpec& spec, const ObservedState& obs,
                     const Action& a) {
  switch (a.kind) {
    case ActionKind::kNone:
    case ActionKind::kWait:
      return Status::Ok();
    case ActionKind::kCreatePeerService:
      return CreateIdempotent(c, types::Service(), spec, resources::PeerService(spec));
    case ActionKind::kUpdatePeerService:
      return UpdateMerged(c, types::Service(), spec, resources::PeerService(spec));
    case ActionKind::kCreateClientService:
      return CreateIdempotent(c, types::Service(), spec, resources::ClientService(spec));
    case ActionKind::kUpdateClientService:
      return UpdateMerged(c, types::Service(), spec, resources::ClientService(spec));
    case ActionKind::kCreatePreUpgradeBackup: {
      json backup = {{"apiVersion", types::EtcdBackup().ApiVersion()},
                     {"kind", "EtcdBackup"},
                     {"metadata",
                      {{"name", naming::PreUpgradeBackup(spec.name, spec.version)},
                       {"namespace", spec.namespace_},
                       {"labels", resources::Labels(spec)},
                       {"ownerReferences", json::array({resources::OwnerReference(spec)})}}},
                     {"spec", {{"clusterName", spec.name}}}};
      // The BackupController's object from here on: not controlled by the cluster.
      backup["metadata"]["ownerReferences"][0]["controller"] = false;
      auto made = c.Create(types::EtcdBackup(), spec.namespace_, backup);
      return made.ok() || made.status().code() == StatusCode::kAlreadyExists ? Status::Ok() : made.status();
    }
    case ActionKind::kCreateRestoreSecret:
      return CreateIdempotent(c, types::Secret(), spec, resources::RestoreSecret(spec));
    case ActionKind::kCreateConfigMap:
      return CreateIdempotent(c, types::ConfigMap(), spec, resources::ConfigMap(spec, BootstrapMembers(spec, a)));
    case ActionKind::kWriteMemberBootstrap:
      return EditConfigMap(c, spec, [&](json& data) {
        data[naming::KeyInitialCluster(a.member_name)] = a.initial_cluster;
        data[naming::KeyState(a.member_name)] = a.state;
        data[naming::KeyConfiguredAt(a.member_name)] = FormatTime(a.at);
        if (a.member_id != 0) {
          data[naming::KeyMemberId(a.member_name)] = naming::MemberIdHex(a.member_id);
        } else {
          data.erase(naming::KeyMemberId(a.member_name));
        }
      });
    case ActionKind::kUpdateStartScript:
      return EditConfigMap(c, spec, [&](json& data) { data[naming::kKeyScript] = resources::StartScript(); });
    case ActionKind::kDeleteMemberBootstrap:
      return EditConfigMap(c, spec, [&](json& data) {
        data.erase(naming::KeyInitialCluster(a.member_name));
        data.erase(naming::KeyState(a.member_name));
        data.erase(naming::KeyMemberId(a.member_name));
        data.erase(naming::KeyConfiguredAt(a.member_name));
      });
    case ActionKind::kCreateStatefulSet:
      return CreateIdempotent(c, types::StatefulSet(), spec,
                              resources::StatefulSet(spec, a.replicas, DesiredPeerListeners(spec, obs)));
    case ActionKind::kUpdateStatefulSet: {
      // replicas stays the live value: scaling is a separate, planner-ordered step.
      json desired = resources::StatefulSet(spec, obs.stateful_set.replicas, DesiredPeerListeners(spec, obs));
      desired["metadata"]["annotations"][naming::kAnnotationTemplateChangedAt] = FormatTime(a.at);
      return Ok(kube::UpdateWithRetry(c, types::StatefulSet(), spec.namespace_, naming::StatefulSet(spec.name), [&](json& live) {
        json d = desired;
        d["spec"] = {{"template", desired["spec"]["template"]}, {"updateStrategy", desired["spec"]["updateStrategy"]}};
        if (desired["spec"].contains("persistentVolumeClaimRetentionPolicy")) {
          d["spec"]["persistentVolumeClaimRetentionPolicy"] = desired["spec"]["persistentVolumeClaimRetentionPolicy"];
        }
        return MergeDesired(live, d);
      }));
    }
    case ActionKind::kScaleStatefulSet:
      return Ok(c.MergePatch(types::StatefulSet(), spec.namespace_, naming::StatefulSet(spec.name),
                             {{"spec", {{"replicas", a.replicas}}}}));
    case ActionKind::kCreatePdb:
      return CreateIdempotent(c, types::PodDisruptionBudget(), spec, resources::PodDisruptionBudget(spec, a.min_available));
    case ActionKind::kUpdatePdb:
      return Ok(c.MergePatch(types::PodDisruptionBudget(), spec.namespace_, naming::Pdb(spec.name),
                             {{"spec", {{"minAvailable", a.min_available}}}}));
    case ActionKind::kAnnotateVolume: {
      json patch = {{"metadata", {{"annotations", {{naming::kAnnotationMemberId, naming::MemberIdHex(a.member_id)}}}}}};
      if (spec.storage.empty_dir) {
        return Ok(c.MergePatch(types::Pod(), spec.namespace_, naming::Member(spec.name, a.ordinal), patch));
      }
      return Ok(c.MergePatch(types::PersistentVolumeClaim(), spec.namespace_, naming::Pvc(spec.name, a.ordinal), patch));
    }
    case ActionKind::kAddLearner:
      return membership.AddLearner(a.peer_url);
    case ActionKind::kUpdatePeerUrl:
      return membership.UpdatePeerUrl(a.member_id, a.peer_url);
    case ActionKind::kPromoteLearner:
      return membership.Promote(a.member_id);
    case ActionKind::kEnableAuth:
      return membership.EnableAuth();
    case ActionKind::kDisableAuth:
      return membership.DisableAuth();
    case ActionKind::kMoveLeader:
      return membership.MoveLeader(a.member_id);
    case ActionKind::kRemoveMember:
      return membership.Remove(a.member_id);
    case ActionKind::kDeletePvc:
      return DeleteIdempotent(c, types::PersistentVolumeClaim(), spec, naming::Pvc(spec.name, a.ordinal));
    case ActionKind::kRestartPod:
      return DeleteIdempotent(c, types::Pod(), spec, naming::Member(spec.name, a.ordinal));
    case ActionKind::kCreateCa: {
      auto ca = tls::MakeCa(spec.name + "-ca", spec.tls.ca_validity, a.at, KeyAlgorithmOf(spec));
      if (!ca.ok()) return ca.status();
      return CreateIdempotent(c, types::Secret(), spec, resources::CaSecret(spec, ca->cert_pem, ca->key_pem));
    }
    case ActionKind::kIssueCertificate:
      return IssueCertificate(c, spec, a);
    case ActionKind::kUpdateTrustBundle:
      return UpdateTrustBundle(c, spec, a);
    case ActionKind::kStartCaRotation:
      return StartCaRotation(c, spec, a);
    case ActionKind::kSwitchCa:
      return SwitchCa(c, spec, a);
    case ActionKind::kFinishCaRotation:
      return FinishCaRotation(c, spec);
    case ActionKind::kApplyCertManagerCertificate:
      return ApplyCertManagerCertificate(c, spec, a);
    case ActionKind::kReplacePod: {
      // Only the outdated incarnation: if the pod was re-created meanwhile, it is done.
      Status s = c.Delete(types::Pod(), spec.namespace_, naming::Member(spec.name, a.ordinal), a.pod_uid);
      return s.code() == StatusCode::kNotFound || s.code() == StatusCode::kAborted ? Status::Ok() : s;
    }
  }
  return Status::Internal("unknown action");
}

}  // namespace cairn::op
