// ObserveObjects: children's up-to-date flags come from the spec-hash annotation, pods
// and PVCs index by ordinal, volume marks come from PVC annotations (or pod annotations
// with emptyDir), bootstrap ConfigMap keys become per-member entries.
#include <gtest/gtest.h>

#include "operator/api/naming.h"
#include "operator/controller/observe.h"
#include "operator/resources/builders.h"

namespace cairn::op {
namespace {

using json = nlohmann::json;

ClusterSpec Spec(json spec = json::object()) {
  return ClusterSpec::Parse({{"metadata", {{"name", "c"}, {"namespace", "ns"}, {"uid", "uid-12345678"}}}, {"spec", spec}}).value();
}

const Result<std::vector<MemberState>> kNoMembers = Status::Unavailable("down");

TEST(Observe, ChildrenAreUpToDateOnlyWithTheDesiredHash) {
  ClusterSpec spec = Spec();
  ChildObjects c;
  c.peer_service = resources::PeerService(spec);
  json stale = resources::ClientService(spec);
  stale["metadata"]["annotations"][naming::kAnnotationSpecHash] = "old";
  c.client_service = stale;
  c.stateful_set = resources::StatefulSet(spec, 3);
  (*c.stateful_set)["status"] = {{"readyReplicas", 2}};
  ObservedState o = ObserveObjects(spec, c, kNoMembers);
  EXPECT_TRUE(o.peer_service.exists && o.peer_service.up_to_date);
  EXPECT_TRUE(o.client_service.exists);
  EXPECT_FALSE(o.client_service.up_to_date);
  EXPECT_TRUE(o.stateful_set.template_up_to_date);
  EXPECT_EQ(o.stateful_set.replicas, 3);
  EXPECT_EQ(o.stateful_set.ready_replicas, 2);
  EXPECT_FALSE(o.members.has_value());
  EXPECT_EQ(o.member_list_error, "down");

  ObservedState changed = ObserveObjects(Spec({{"image", "other:1"}}), c, kNoMembers);
  EXPECT_FALSE(changed.stateful_set.template_up_to_date);
}

TEST(Observe, VolumeMarksComeFromPvcsOrFromPodsWithEmptyDir) {
  ChildObjects c;
  c.pods = {{{"metadata", {{"name", "c-0"}, {"creationTimestamp", "2026-03-01T10:00:00Z"},
                           {"annotations", {{naming::kAnnotationMemberId, "pod-mark"}}}}},
             {"status", {{"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}},
            {{"metadata", {{"name", "c-1"}, {"deletionTimestamp", "2026-03-01T10:00:00Z"}}}}};
  c.pvcs = {{{"metadata", {{"name", "data-c-0"}, {"annotations", {{naming::kAnnotationMemberId, "pvc-mark"}}}}}},
            {{"metadata", {{"name", "data-other-0"}}}}};
  ObservedState pvc = ObserveObjects(Spec(), c, kNoMembers);
  EXPECT_TRUE(pvc.pods[0].ready);
  EXPECT_EQ(pvc.pods[0].created, ParseTime("2026-03-01T10:00:00Z"));
  EXPECT_NE(pvc.pods[0].created, TimePoint{});
  EXPECT_TRUE(pvc.pods[1].terminating);
  EXPECT_EQ(pvc.volumes.size(), 1u);
  EXPECT_EQ(pvc.volumes[0].marker, "pvc-mark");

  ObservedState ed = ObserveObjects(Spec({{"storage", {{"emptyDir", json::object()}}}}), c, kNoMembers);
  EXPECT_EQ(ed.volumes[0].marker, "pod-mark");
  EXPECT_TRUE(ed.volumes[1].exists);
}

TEST(Observe, BootstrapEntriesParseFromConfigMapKeys) {
  ClusterSpec spec = Spec();
  ChildObjects c;
  c.config_map = resources::ConfigMap(spec, {{"c-0", {"c-0=http://x", "existing", "00000000000000aa"}}, {"c-1", {"ic", "new", ""}}});
  ObservedState o = ObserveObjects(spec, c, std::vector<MemberState>{});
  EXPECT_EQ(o.config_map.token, naming::ClusterToken("c", "uid-12345678"));
  ASSERT_EQ(o.config_map.members.size(), 2u);
  EXPECT_EQ(o.config_map.members["c-0"].state, "existing");
  EXPECT_EQ(o.config_map.members["c-0"].member_id, "00000000000000aa");
  EXPECT_EQ(o.config_map.members["c-1"].initial_cluster, "ic");
  EXPECT_TRUE(o.members.has_value());
  EXPECT_TRUE(o.config_map.configured_at.empty());
  (*c.config_map)["data"][naming::KeyConfiguredAt("c-0")] = "2026-03-01T10:00:05Z";
  o = ObserveObjects(spec, c, std::vector<MemberState>{});
  EXPECT_EQ(o.config_map.configured_at["c-0"], ParseTime("2026-03-01T10:00:05Z"));
}

TEST(Observe, RevisionsAndVersionsComeFromTheStatefulSetAndPodLabels) {
  ClusterSpec spec = Spec();
  ChildObjects c;
  c.stateful_set = resources::StatefulSet(spec, 3);
  (*c.stateful_set)["metadata"]["generation"] = 4;
  (*c.stateful_set)["metadata"]["annotations"][naming::kAnnotationTemplateChangedAt] = "2026-03-01T10:00:00Z";
  (*c.stateful_set)["status"] = {{"updateRevision", "c-abc"}, {"observedGeneration", 3}};
  c.pods = {{{"metadata", {{"name", "c-0"}, {"uid", "u0"},
                           {"labels", {{naming::kLabelRevision, "c-abc"}, {naming::kLabelVersion, "0.2.0"}}}}}}};
  ObservedState o = ObserveObjects(spec, c, kNoMembers);
  EXPECT_EQ(o.stateful_set.update_revision, "c-abc");
  EXPECT_FALSE(o.stateful_set.revision_observed) << "generation 4 is not observed yet";
  EXPECT_EQ(o.stateful_set.template_changed_at, ParseTime("2026-03-01T10:00:00Z"));
  EXPECT_EQ(o.pods[0].uid, "u0");
  EXPECT_EQ(o.pods[0].revision, "c-abc");
  EXPECT_EQ(o.pods[0].version, "0.2.0");
  (*c.stateful_set)["status"]["observedGeneration"] = 4;
  EXPECT_TRUE(ObserveObjects(spec, c, kNoMembers).stateful_set.revision_observed);
}

}  // namespace
}  // namespace cairn::op
