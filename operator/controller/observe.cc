#include "operator/controller/observe.h"

#include <ctime>

#include "operator/api/naming.h"
#include "operator/resources/builders.h"

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

bool Terminating(const json& obj) { return obj["metadata"].contains("deletionTimestamp") && !obj["metadata"]["deletionTimestamp"].is_null(); }

TimePoint Created(const json& obj) { return ParseTime(obj["metadata"].value("creationTimestamp", "")); }

}  // namespace

TimePoint ParseTime(const std::string& s) {
  std::tm tm{};
  if (s.size() < 20 || !strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return TimePoint{};
  return Clock::from_time_t(timegm(&tm));
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
    o.stateful_set.template_up_to_date =
        Annotation(sts, naming::kAnnotationSpecHash) ==
        Annotation(resources::StatefulSet(spec, o.stateful_set.replicas), naming::kAnnotationSpecHash);
    const json status = sts.value("status", json::object());
    o.stateful_set.update_revision = status.value("updateRevision", "");
    o.stateful_set.revision_observed = !o.stateful_set.update_revision.empty() &&
                                       status.value("observedGeneration", int64_t{0}) >=
                                           sts["metadata"].value("generation", int64_t{1});
    o.stateful_set.template_changed_at = ParseTime(Annotation(sts, naming::kAnnotationTemplateChangedAt));
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

  if (members.ok()) {
    o.members = *members;
  } else {
    o.member_list_error = members.status().message();
  }
  return o;
}

}  // namespace cairn::op
