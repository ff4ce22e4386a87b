#include "operator/controller/reconciler.h"

#include "operator/api/naming.h"
#include "operator/controller/executor.h"
#include "operator/controller/observe.h"
#include "operator/controller/restore_source.h"
#include "operator/log/structured_log.h"
#include "operator/controller/tls_observer.h"
#include "operator/reconcile/certificates.h"
#include "operator/reconcile/status_builder.h"

namespace cairn::op {
namespace {

using json = nlohmann::json;
namespace types = kube::types;

// Absent is a normal answer for a child; any other failure aborts the pass.
Status GetOptional(kube::Client& c, const kube::ResourceType& t, const std::string& ns, const std::string& name,
                   std::optional<json>* out) {
  auto r = c.Get(t, ns, name);
  if (r.ok()) {
    *out = std::move(r).value();
    return Status::Ok();
  }
  return r.status().code() == StatusCode::kNotFound ? Status::Ok() : r.status();
}

// The objects a pass reads fresh: the children by their deterministic names, the pods
// and (with persistent storage) the volumes by label.
Status ReadChildren(kube::Client& c, const ClusterSpec& spec, ChildObjects* children) {
  const std::string& ns = spec.namespace_;
  const std::string& name = spec.name;
  for (auto [type, child_name, slot] :
       {std::tuple{&types::Service(), naming::PeerService(name), &children->peer_service},
        std::tuple{&types::Service(), naming::ClientService(name), &children->client_service},
        std::tuple{&types::ConfigMap(), naming::ConfigMap(name), &children->config_map},
        std::tuple{&types::StatefulSet(), naming::StatefulSet(name), &children->stateful_set},
        std::tuple{&types::PodDisruptionBudget(), naming::Pdb(name), &children->pdb}}) {
    Status s = GetOptional(c, *type, ns, child_name, slot);
    if (!s.ok()) return s;
  }
  // Reads Secret `secret` into children->secrets, if it exists.
  auto read_secret = [&](const std::string& secret) {
    std::optional<json> found;
    Status s = GetOptional(c, types::Secret(), ns, secret, &found);
    if (found) children->secrets[secret] = std::move(*found);
    return s;
  };
  if (spec.restore.Requested()) CAIRN_RETURN_IF_ERROR(read_secret(naming::RestoreSecret(name)));
  if (spec.tls.Any()) {
    std::vector<std::string> names;
    if (spec.tls.AnyAuto()) names.push_back(naming::CaSecret(name));
    for (const auto& cert : NeededCertificates(spec)) names.push_back(cert.secret);
    for (const auto& cert : ProvidedCertificates(spec)) names.push_back(cert.secret);
    for (const auto& cert : ManagedCertificates(spec)) {
      names.push_back(cert.secret);
      std::optional<json> found;
      Status s = GetOptional(c, types::CertManagerCertificate(), ns, cert.secret, &found);
      if (!s.ok()) return s;
      if (found) children->certificates[cert.secret] = std::move(*found);
    }
    for (const auto& secret : names) CAIRN_RETURN_IF_ERROR(read_secret(secret));
  }
  if (!spec.auth.credentials_secret.empty()) CAIRN_RETURN_IF_ERROR(read_secret(spec.auth.credentials_secret));
  const std::string selector = std::string(naming::kLabelInstance) + "=" + name + "," + naming::kLabelName + "=cairn";
  auto pods = c.List(types::Pod(), ns, selector);
  if (!pods.ok()) return pods.status();
  children->pods = std::move(pods->items);
  // Client TLS turned off: members not yet rolled still serve https and require the
  // operator's certificate, which the spec no longer names among its certificates.
  const bool template_tls = children->stateful_set && TemplateServesClientTls(*children->stateful_set);
  if (!spec.tls.client.enabled && (template_tls || PodClientSchemes(spec.name, children->pods).https)) {
    CAIRN_RETURN_IF_ERROR(read_secret(OperatorTlsSecretName(*children, spec)));
  }
  if (!spec.storage.empty_dir) {
    auto pvcs = c.List(types::PersistentVolumeClaim(), ns, selector);
    if (!pvcs.ok()) return pvcs.status();
    children->pvcs = std::move(pvcs->items);
  }
  return Status::Ok();
}

// The earliest expiry among the CA and certificates a cluster has, or none.
void RecordCertificateExpiry(Metrics& metrics, const std::string& cluster, const TlsState& tls, TimePoint now) {
  std::optional<TimePoint> earliest;
  auto consider = [&](const CertState& c) {
    if (c.valid && (!earliest || c.not_after < *earliest)) earliest = c.not_after;
  };
  consider(tls.ca);
  for (const auto& [use, leaf] : tls.leaves) consider(leaf);
  if (!earliest) {
    metrics.ClearCertificateExpiry(cluster);
    return;
  }
  metrics.SetCertificateExpiry(cluster, std::chrono::duration<double>(*earliest - now).count());
}

// The newest finished (Succeeded or Failed) EtcdBackup of `cluster`, by completion time.
std::optional<ObservedState::LastBackup> LastFinishedBackup(const std::vector<json>& items, const std::string& cluster) {
  std::optional<ObservedState::LastBackup> last;
  for (const auto& item : items) {
    if (item.value("spec", json::object()).value("clusterName", "") != cluster) continue;
    const json st = item.value("status", json::object());
    const std::string phase = st.value("phase", "");
    if (phase != "Succeeded" && phase != "Failed") continue;
    ObservedState::LastBackup b;
    b.name = item["metadata"].value("name", "");
    b.phase = phase;
    b.message = st.value("message", "");
    b.completed = ParseTime(st.value("completionTime", ""));
    if (st.contains("verified")) b.verified = st.value("verified", false);
    b.verification_message = st.value("verificationMessage", "");
    if (!last || std::tie(b.completed, b.name) > std::tie(last->completed, last->name)) last = b;
  }
  return last;
}

}  // namespace

std::vector<std::string> MemberEndpoints(const ClusterSpec& spec, int32_t sts_replicas, bool serving_tls,
                                         const ClientSchemes& running) {
  const int ordinals = std::max(spec.replicas, sts_replicas);
  auto pod_tls = [&](int ord) {
    auto it = running.https_by_ordinal.find(ord);
    return it == running.https_by_ordinal.end() ? serving_tls : it->second;
  };
  std::vector<std::string> out;
  for (int i = 0; i < ordinals; ++i) out.push_back(naming::MemberClientUrl(spec.name, spec.namespace_, i, pod_tls(i)));
  for (int i = 0; i < ordinals; ++i) {
    const bool other = !pod_tls(i);
    if (other == serving_tls || other == spec.tls.client.enabled || (other ? running.https : running.http)) {
      out.push_back(naming::MemberClientUrl(spec.name, spec.namespace_, i, other));
    }
  }
  return out;
}

std::string OperatorTlsSecretName(const ChildObjects& children, const ClusterSpec& spec) {
  if (!spec.tls.client.enabled && children.stateful_set) {
    const json annotations = (*children.stateful_set)["metadata"].value("annotations", json::object());
    const std::string recorded = annotations.value(naming::kAnnotationOperatorTlsSecret, "");
    if (!recorded.empty()) return recorded;
  }
  return TlsSecretName(spec, "operator");
}

ClientTls OperatorClientTls(const ChildObjects& children, const ClusterSpec& spec, bool serving_tls) {
  auto secret = children.secrets.find(OperatorTlsSecretName(children, spec));
  if (!(spec.tls.client.enabled || serving_tls) || secret == children.secrets.end()) return {};
  return ClientTlsOf(secret->second);
}

Result<ClientAuth> OperatorClientAuth(const ChildObjects& children, const ClusterSpec& spec) {
  const std::string& name = spec.auth.credentials_secret;
  if (name.empty()) return ClientAuth{};
  auto secret = children.secrets.find(name);
  if (secret == children.secrets.end()) {
    return Status::FailedPrecondition("spec.auth.credentialsSecret: Secret " + name + " does not exist");
  }
  ClientAuth auth{SecretDataValue(secret->second, "username"), SecretDataValue(secret->second, "password")};
  if (auth.user.empty()) auth.user = "root";
  if (auth.password.empty()) {
    return Status::FailedPrecondition("spec.auth.credentialsSecret: Secret " + name + " has no password");
  }
  return auth;
}

Reconciler::Reconciler(kube::Client& client, ReconcilerOptions options) : client_(client), options_(std::move(options)) {}

ReconcileOutcome Reconciler::Reconcile(const std::string& ns, const std::string& name) {
  ReconcileOutcome out;
  auto live = client_.Get(types::EtcdCluster(), ns, name);
  if (!live.ok()) {
    if (live.status().code() != StatusCode::kNotFound) out.status = live.status();
    if (options_.metrics && live.status().code() == StatusCode::kNotFound) {
      options_.metrics->ClearCertificateExpiry(ns + "/" + name);
    }
    return out;  // deleted: its children are garbage-collected through owner references
  }
  auto spec = ClusterSpec::Parse(*live, options_.default_image_repository);
  if (!spec.ok()) {
    // The object will not parse until someone edits it, which brings a watch event.
    Report(*live, EventType::kWarning, "InvalidSpec", spec.status().message());
    out.status = spec.status();
    return out;
  }

  ChildObjects children;
  out.status = ReadChildren(client_, *spec, &children);
  if (!out.status.ok()) {
    Report(*live, EventType::kWarning, "ReadFailed", "reading the cluster's objects: " + out.status.message());
    return out;
  }

  auto unresolved = ResolveRestore(client_, children, options_.operator_image, *spec);
  if (!unresolved.ok()) {
    out.status = unresolved.status();
    return out;
  }

  const int32_t sts_replicas = children.stateful_set ? (*children.stateful_set)["spec"].value("replicas", 0) : 0;
  const bool serving_tls =
      children.stateful_set ? TemplateServesClientTls(*children.stateful_set) : spec->tls.client.enabled;
  // Pods a rollout has not replaced yet still serve the old scheme, and need the
  // operator's certificate if that is https.
  const ClientSchemes running = PodClientSchemes(spec->name, children.pods);
  auto auth = OperatorClientAuth(children, *spec);
  if (!auth.ok()) Report(*live, EventType::kWarning, "AuthCredentialsMissing", auth.status().message());
  std::unique_ptr<Membership> membership =
      options_.membership(*spec, MemberEndpoints(*spec, sts_replicas, serving_tls, running),
                          OperatorClientTls(children, *spec, serving_tls || running.https),
                          auth.ok() ? *auth : ClientAuth{});
  Result<std::vector<MemberState>> members = Status::Unavailable("no member has been started");
  if (children.stateful_set) members = membership->Observe();

  const TimePoint now = options_.clock();
  ObservedState observed = ObserveObjects(*spec, children, members);
  observed.restore_unresolved = *unresolved;
  if (members.ok()) ProbeMemberTls(*spec, children, *members, *membership, now, &observed);
  if (spec->auth.enabled && members.ok()) {
    auto on = auth.ok() ? membership->AuthEnabled() : Result<bool>(auth.status());
    if (on.ok()) {
      observed.auth_enabled = *on;
    } else {
      observed.auth_problem = on.status().message();
    }
  }
  if (spec->backup_scheduled) {
    auto backups = client_.List(types::EtcdBackup(), ns);
    if (!backups.ok()) {
      out.status = backups.status();
      return out;
    }
    observed.last_backup = LastFinishedBackup(backups->items, name);
  }
  if (spec->backup_before_upgrade) {
    auto before = client_.Get(types::EtcdBackup(), ns, naming::PreUpgradeBackup(name, spec->version));
    if (!before.ok() && before.status().code() != StatusCode::kNotFound) {
      out.status = before.status();
      return out;
    }
    if (before.ok()) {
      const json st = before->value("status", json::object());
      observed.pre_upgrade_backup_phase = st.value("phase", "Pending");
      observed.pre_upgrade_backup_message = st.value("message", "");
    }
  }
  if (members.ok()) {
    Status read = membership->LinearizableRead();
    if (!read.ok()) observed.linearizable_read_error = read.message();
  }
  const Plan plan = PlanNext(*spec, observed, now, options_.planner);
  if (options_.metrics) RecordCertificateExpiry(*options_.metrics, ns + "/" + name, observed.tls, now);
  out.action = plan.action.kind;

  if (!options_.may_act()) return {Status::Ok(), std::nullopt, ActionKind::kNone};
  const json previous = live->value("status", json::object());
  const json status = BuildStatus(*spec, observed, plan, previous, now);
  if (status != previous) {
    json updated = *live;
    updated["status"] = status;
    auto w = client_.UpdateStatus(types::EtcdCluster(), ns, updated);
    if (!w.ok()) {
      // A conflict means the object changed since we read it: plan again from scratch.
      out.status = w.status().code() == StatusCode::kAborted ? Status::Ok() : w.status();
      if (!out.status.ok()) Report(*live, EventType::kWarning, "StatusUpdateFailed", out.status.message());
      out.requeue_after = std::chrono::milliseconds(0);
      return out;
    }
  }

  if (!options_.may_act()) return {Status::Ok(), std::nullopt, ActionKind::kNone};
  if (plan.blocked) Report(*live, EventType::kWarning, plan.action.reason, plan.action.message);
  out.status = ExecuteAction(client_, *membership, *spec, observed, plan.action);
  if (plan.action.kind != ActionKind::kNone && plan.action.kind != ActionKind::kWait) {
    if (options_.metrics) options_.metrics->RecordAction(ActionKindName(plan.action.kind));
    // Every step taken shows in `kubectl describe` under the reason its condition uses.
    if (out.status.ok()) {
      Report(*live, EventType::kNormal, plan.action.reason, plan.action.message);
    } else {
      Report(*live, EventType::kWarning, std::string("Failed") + ActionKindName(plan.action.kind),
             plan.action.message + ": " + out.status.message());
    }
  }
  out.requeue_after = std::chrono::duration_cast<std::chrono::milliseconds>(plan.action.requeue_after);
  return out;
}

void Reconciler::Report(const nlohmann::json& cluster, EventType type, const std::string& reason,
                        const std::string& message) {
  if (!options_.events || !options_.may_act()) return;
  Status s = options_.events->Record(cluster, type, reason, message);
  if (!s.ok()) {
    log::Log(spdlog::level::debug, "event not recorded",
             {{"cluster", cluster["metadata"].value("namespace", "") + "/" + cluster["metadata"].value("name", "")},
              {"reason", reason}, {"error", s.ToString()}});
  }
}

}  // namespace cairn::op
