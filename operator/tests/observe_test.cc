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

TEST(Observe, AStartScriptOtherThanThisOperatorsIsOutdated) {
  ClusterSpec spec = Spec();
  ChildObjects c;
  c.config_map = resources::ConfigMap(spec, {});
  EXPECT_FALSE(ObserveObjects(spec, c, kNoMembers).config_map.script_outdated);
  (*c.config_map)["data"][naming::kKeyScript] = "#!/bin/sh\nexec cairn --listen-peer-urls=http://0.0.0.0:2380\n";
  EXPECT_TRUE(ObserveObjects(spec, c, kNoMembers).config_map.script_outdated);
}

TEST(Observe, ThePeerListenersComeFromTheTemplateAndDecideWhetherItIsUpToDate) {
  // A plaintext cluster whose spec turned peer TLS on: the template it wants listens on
  // both endpoints until every member advertises the TLS one.
  ClusterSpec secure = Spec({{"tls", {{"peer", {{"auto", json::object()}}}}}});
  ChildObjects c;
  c.stateful_set = resources::StatefulSet(Spec(), 3);
  std::vector<MemberState> members(3);
  for (int i = 0; i < 3; ++i) {
    members[i].id = 1 + i;
    members[i].peer_url = naming::PeerUrl("c", "ns", i, false);
  }
  ObservedState o = ObserveObjects(secure, c, members);
  EXPECT_EQ(o.stateful_set.peer, (PeerListeners{{false, naming::kPeerPort}, std::nullopt, "", false}));
  EXPECT_FALSE(o.stateful_set.template_up_to_date);
  const PeerListeners dual = DesiredPeerListeners(secure, o);
  EXPECT_EQ(dual, (PeerListeners{{false, naming::kPeerPort}, PeerEndpoint{true, naming::kPeerPortAlternate}, "c-peer-tls", false}));

  c.stateful_set = resources::StatefulSet(secure, 3, dual);
  o = ObserveObjects(secure, c, members);
  EXPECT_EQ(o.stateful_set.peer, dual) << "read back as written";
  EXPECT_TRUE(o.stateful_set.template_up_to_date);
  for (int i = 0; i < 2; ++i) members[i].peer_url = naming::PeerUrl("c", "ns", i, true, naming::kPeerPortAlternate);
  EXPECT_TRUE(ObserveObjects(secure, c, members).stateful_set.template_up_to_date) << "one member still on http";
  members[2].peer_url = naming::PeerUrl("c", "ns", 2, true, naming::kPeerPortAlternate);
  o = ObserveObjects(secure, c, members);
  EXPECT_FALSE(o.stateful_set.template_up_to_date);
  EXPECT_EQ(DesiredPeerListeners(secure, o),
            (PeerListeners{{true, naming::kPeerPortAlternate}, std::nullopt, "c-peer-tls", false}));
  // Without a member list nothing moves.
  EXPECT_TRUE(ObserveObjects(secure, c, kNoMembers).stateful_set.template_up_to_date);
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
