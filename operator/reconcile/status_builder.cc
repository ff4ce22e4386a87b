#include "operator/reconcile/status_builder.h"

#include <ctime>

#include "operator/api/naming.h"

namespace cairn::op {
namespace {

nlohmann::json Condition(const std::string& type, bool status, const std::string& reason, const std::string& message,
                         const ClusterSpec& spec, const nlohmann::json& previous, TimePoint now) {
  std::string s = status ? "True" : "False";
  std::string since = FormatTime(now);
  for (const auto& c : previous.value("conditions", nlohmann::json::array())) {
    if (c.value("type", "") == type && c.value("status", "") == s && c.contains("lastTransitionTime")) {
      since = c["lastTransitionTime"];
    }
  }
  return {{"type", type},         {"status", s},        {"reason", reason}, {"message", message},
          {"lastTransitionTime", since}, {"observedGeneration", spec.generation}};
}

bool IsProgressing(ActionKind k) { return k != ActionKind::kNone; }

}  // namespace

std::string FormatTime(TimePoint t) {
  std::time_t tt = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json BuildStatus(const ClusterSpec& spec, const ObservedState& obs, const Plan& plan,
                           const nlohmann::json& previous, TimePoint now) {
  nlohmann::json st = nlohmann::json::object();
  st["phase"] = plan.phase;
  st["observedGeneration"] = spec.generation;
  st["selector"] = std::string(naming::kLabelInstance) + "=" + spec.name + "," + naming::kLabelName + "=cairn";
  st["clientEndpoint"] = naming::ClientEndpoint(spec.name, spec.namespace_);
  if (obs.config_map.exists) st["clusterToken"] = obs.config_map.token;

  int32_t ready = 0;
  nlohmann::json members = nlohmann::json::array();
  std::string version;
  if (obs.members) {
    for (const auto& m : *obs.members) {
      auto ord = naming::OrdinalFromPeerUrl(spec.name, m.peer_url);
      std::string name = !m.name.empty() ? m.name : ord ? naming::Member(spec.name, *ord) : naming::MemberIdHex(m.id);
      nlohmann::json e = {{"name", name},
                          {"id", naming::MemberIdHex(m.id)},
                          {"role", m.is_learner ? "learner" : m.is_leader ? "leader" : "follower"},
                          {"healthy", m.healthy}};
      if (!m.version.empty()) e["version"] = m.version;
      if (m.healthy && !m.is_learner) ++ready;
      if (m.is_leader && !m.version.empty()) version = m.version;
      members.push_back(std::move(e));
    }
    st["replicas"] = static_cast<int32_t>(obs.members->size());
  } else {
    st["replicas"] = obs.stateful_set.replicas;
  }
  st["readyReplicas"] = ready;
  st["members"] = members;
  if (!version.empty()) st["currentVersion"] = version;

  nlohmann::json conds = nlohmann::json::array();
  conds.push_back(Condition("Available", plan.available, plan.available ? "QuorumHealthy" : "NoQuorum",
                            std::to_string(ready) + " healthy voting member(s)", spec, previous, now));
  bool progressing = IsProgressing(plan.action.kind) && plan.phase != "Paused";
  conds.push_back(Condition("Progressing", progressing, progressing ? plan.action.reason : "Reconciled",
                            progressing ? plan.action.message : "cluster matches the spec", spec, previous, now));
  std::string problems;
  for (const auto& p : plan.problems) problems += (problems.empty() ? "" : "; ") + p;
  conds.push_back(Condition("Degraded", !plan.problems.empty(), plan.problems.empty() ? "AsExpected" : "MembersUnhealthy",
                            problems, spec, previous, now));
  st["conditions"] = conds;
  return st;
}

}  // namespace cairn::op
