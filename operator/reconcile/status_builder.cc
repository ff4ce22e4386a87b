#include "operator/reconcile/status_builder.h"

#include <ctime>

#include "operator/api/naming.h"
#include "operator/reconcile/ca_rotation.h"
#include "operator/reconcile/certificates.h"

namespace cairn::op {
namespace {

nlohmann::json Condition(const std::string& type, const std::string& s, const std::string& reason,
                         const std::string& message, const ClusterSpec& spec, const nlohmann::json& previous,
                         TimePoint now) {
  std::string since = FormatTime(now);
  for (const auto& c : previous.value("conditions", nlohmann::json::array())) {
    if (c.value("type", "") == type && c.value("status", "") == s && c.contains("lastTransitionTime")) {
      since = c["lastTransitionTime"];
    }
  }
  return {{"type", type},         {"status", s},        {"reason", reason}, {"message", message},
          {"lastTransitionTime", since}, {"observedGeneration", spec.generation}};
}

nlohmann::json Condition(const std::string& type, bool status, const std::string& reason, const std::string& message,
                         const ClusterSpec& spec, const nlohmann::json& previous, TimePoint now) {
  return Condition(type, std::string(status ? "True" : "False"), reason, message, spec, previous, now);
}

}  // namespace

nlohmann::json BuildStatus(const ClusterSpec& spec, const ObservedState& obs, const Plan& plan,
                           const nlohmann::json& previous, TimePoint now) {
  nlohmann::json st = nlohmann::json::object();
  st["phase"] = plan.phase;
  st["observedGeneration"] = spec.generation;
  st["selector"] = std::string(naming::kLabelInstance) + "=" + spec.name + "," + naming::kLabelName + "=cairn";
  st["clientEndpoint"] = naming::ClientEndpoint(spec.name, spec.namespace_, spec.tls.client.enabled);
  if (obs.config_map.exists) st["clusterToken"] = obs.config_map.token;

  int32_t ready = 0;
  nlohmann::json members = nlohmann::json::array();
  if (obs.members) {
    for (const auto& m : *obs.members) {
      auto ord = naming::OrdinalFromPeerUrl(spec.name, m.peer_url);
      std::string name = !m.name.empty() ? m.name : ord ? naming::Member(spec.name, *ord) : naming::MemberIdHex(m.id);
      nlohmann::json e = {{"name", name},
                          {"id", naming::MemberIdHex(m.id)},
                          {"role", m.is_learner ? "learner" : m.is_leader ? "leader" : "follower"},
                          {"healthy", m.healthy}};
      auto pod = ord ? obs.pods.find(*ord) : obs.pods.end();
      if (pod != obs.pods.end() && !pod->second.version.empty()) e["version"] = pod->second.version;
      if (!m.api_version.empty()) e["apiVersion"] = m.api_version;
      if (auto served = ord ? obs.tls.members.find(*ord) : obs.tls.members.end(); served != obs.tls.members.end()) {
        nlohmann::json certs = nlohmann::json::object();
        for (auto [key, side] : {std::pair{"serving", &served->second.client}, std::pair{"peer", &served->second.peer}}) {
          if (*side && (*side)->reached) {
            certs[key] = {{"serial", (*side)->serial}, {"notAfter", FormatTime((*side)->not_after)}};
          }
        }
        if (!certs.empty()) e["certificates"] = certs;
      }
      if (m.healthy && !m.is_learner) ++ready;
      members.push_back(std::move(e));
    }
    st["replicas"] = static_cast<int32_t>(obs.members->size());
  } else {
    st["replicas"] = obs.stateful_set.replicas;
  }
  st["readyReplicas"] = ready;
  st["updatedReplicas"] = plan.updated_members;
  st["members"] = members;
  if (!plan.running_version.empty()) st["currentVersion"] = plan.running_version;
  st["targetVersion"] = spec.version;

  nlohmann::json conds = nlohmann::json::array();
  if (plan.members_known) {
    conds.push_back(Condition("Available", plan.available, plan.available ? "QuorumHealthy" : "NoQuorum",
                              std::to_string(ready) + " healthy voting member(s)", spec, previous, now));
  } else {
    conds.push_back(Condition("Available", std::string("Unknown"), "MembersUnreachable",
                              obs.member_list_error.empty() ? "no member list yet" : obs.member_list_error, spec,
                              previous, now));
  }
  // Blocked work is not progressing: it waits for the world or the spec to change.
  bool progressing = plan.action.kind != ActionKind::kNone && plan.phase != "Paused" && !plan.blocked;
  std::string idle_reason = plan.blocked ? plan.action.reason : "Reconciled";
  std::string idle_message = plan.blocked ? plan.action.message : "cluster matches the spec";
  conds.push_back(Condition("Progressing", progressing, progressing ? plan.action.reason : idle_reason,
                            progressing ? plan.action.message : idle_message, spec, previous, now));
  if (spec.tls.Any()) {
    nlohmann::json certs = nlohmann::json::object();
    std::string pending;
    auto record = [&](const std::string& use, const CertState& c) {
      if (c.valid) certs[use] = {{"serial", c.serial}, {"notAfter", FormatTime(c.not_after)}};
    };
    for (const auto& given : ProvidedCertificates(spec)) {
      auto have = obs.tls.leaves.find(given.use);
      const CertState leaf = have != obs.tls.leaves.end() ? have->second : CertState{};
      record(given.use, leaf);
      if (auto why = ProvidedProblem(given, leaf, now); why && pending.empty()) pending = *why;
    }
    for (const auto& want : ManagedCertificates(spec)) {
      auto have = obs.tls.leaves.find(want.use);
      const CertState leaf = have != obs.tls.leaves.end() ? have->second : CertState{};
      record(want.use, leaf);
      if (auto why = ManagedProblem(want, leaf, now); why && pending.empty()) pending = *why;
    }
    record("ca", obs.tls.ca);
    record("nextCa", obs.tls.next_ca);
    record("previousCa", obs.tls.previous_ca);
    if (spec.tls.AnyAuto() && !obs.tls.ca.valid && pending.empty()) pending = "the CA is not issued yet";
    for (const auto& want : NeededCertificates(spec)) {
      auto have = obs.tls.leaves.find(want.use);
      const CertState leaf = have != obs.tls.leaves.end() ? have->second : CertState{};
      record(want.use, leaf);
      if (!pending.empty()) continue;
      if (auto change = NeededChange(want, leaf, obs.tls, now)) pending = change->reason;
    }
    st["certificates"] = certs;
    const bool rotating = PhaseOf(obs.tls) != CaRotationPhase::kNone;
    std::string reason = !pending.empty() ? "Pending" : rotating ? "RotatingCertificateAuthority" : "Issued";
    std::string message = !pending.empty() ? pending
                          : rotating       ? "certificates are current; the CA is being rotated"
                          : spec.tls.AnyAuto() ? "every certificate is issued by the cluster's CA and current"
                                               : "every provided certificate is present and unexpired";
    conds.push_back(Condition("CertificatesReady", pending.empty(), reason, message, spec, previous, now));
  }
  if (spec.backup_scheduled) {
    const auto& b = obs.last_backup;
    if (!b) {
      conds.push_back(Condition("BackupHealthy", std::string("Unknown"), "NoBackupYet", "no backup has finished yet",
                                spec, previous, now));
    } else {
      st["lastBackup"] = {{"name", b->name}, {"phase", b->phase}, {"completionTime", FormatTime(b->completed)}};
      if (b->verified) st["lastBackup"]["verified"] = *b->verified;
      if (b->phase == "Failed") {
        conds.push_back(Condition("BackupHealthy", false, "BackupFailed", b->name + ": " + b->message, spec, previous, now));
      } else if (b->verified == false) {
        conds.push_back(Condition("BackupHealthy", false, "VerificationFailed", b->name + ": " + b->verification_message,
                                  spec, previous, now));
      } else {
        conds.push_back(Condition("BackupHealthy", true, b->verified ? "Verified" : "Succeeded",
                                  b->name + (b->verified ? " restored and verified" : " succeeded"), spec, previous, now));
      }
    }
  }
  std::string problems;
  for (const auto& p : plan.problems) problems += (problems.empty() ? "" : "; ") + p;
  conds.push_back(Condition("Degraded", !plan.problems.empty(), plan.problems.empty() ? "AsExpected" : "MembersUnhealthy",
                            problems, spec, previous, now));
  st["conditions"] = conds;
  return st;
}

}  // namespace cairn::op
