// The planner's test world: hand-built observations of a cluster (Healthy) and a small
// simulator of the Kubernetes controllers, kubelet and etcd members (World) that applies
// each planned action, asserts the safety invariants at every step, and re-plans from
// scratch each pass (what an operator crash between any two steps amounts to).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "operator/api/naming.h"
#include "operator/reconcile/certificates.h"
#include "operator/reconcile/peer_listeners.h"
#include "operator/reconcile/planner.h"
#include "operator/reconcile/status_builder.h"

namespace cairn::op::testing {

using std::chrono::seconds;

inline ClusterSpec Spec(int replicas) {
  auto r = ClusterSpec::Parse({{"metadata", {{"name", "c"}, {"namespace", "ns"}, {"uid", "0123456789ab"}, {"generation", 1}}},
                               {"spec", {{"replicas", replicas}}}});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return *r;
}

inline const TimePoint kT0 = TimePoint(seconds(1'700'000'000));

// A converged cluster of n members, leader at ordinal 0, all healthy, volumes marked.
inline ObservedState Healthy(const ClusterSpec& spec, int n, TimePoint t = kT0) {
  ObservedState o;
  o.peer_service = o.client_service = {true, true};
  o.config_map.exists = true;
  o.config_map.token = naming::ClusterToken(spec.name, spec.uid);
  o.stateful_set = {true, true, n, n, "r1", true, t - seconds(3600), spec.tls.client.enabled, InitialPeerListeners(spec)};
  o.pdb = {true, QuorumOf(n)};
  o.members.emplace();
  for (int i = 0; i < n; ++i) {
    MemberState m;
    m.id = 0x100 + i;
    m.name = naming::Member(spec.name, i);
    m.peer_url = naming::PeerUrl(spec.name, spec.namespace_, i, spec.tls.peer.enabled);
    m.healthy = true;
    m.is_leader = i == 0;
    m.raft_index = m.applied_index = 500;
    m.api_version = "3.5.0";
    o.members->push_back(m);
    o.pods[i] = {true, true, false, t - seconds(3600), "pod-uid-" + std::to_string(i), "r1", spec.version};
    o.volumes[i] = {true, naming::MemberIdHex(m.id), t - seconds(3600)};
    o.config_map.members[m.name] = {BootstrapInitialCluster(spec, n), "existing", naming::MemberIdHex(m.id)};
  }
  return o;
}

// What the executor's CA and leaves look like to the planner once issued.
inline CertState IssuedCa(TimePoint at, const std::string& key_id = "ca-key-1") {
  CertState ca;
  ca.exists = ca.valid = true;
  ca.serial = "CA" + key_id;
  ca.not_before = at;
  ca.not_after = at + std::chrono::hours(24 * 365 * 5);
  ca.subject_key_id = key_id;
  ca.cert_pem = "[PEM of " + key_id + "]";  // bracketed: bundles are checked by substring
  return ca;
}
inline CertState IssuedLeaf(const CertificateSpec& want, const CertState& ca, TimePoint at, std::chrono::seconds validity) {
  CertState leaf;
  leaf.exists = leaf.valid = true;
  leaf.serial = want.use + "-" + std::to_string(at.time_since_epoch().count());
  leaf.not_before = at;
  leaf.not_after = at + validity;
  leaf.sans = want.hosts;
  leaf.authority_key_id = ca.subject_key_id;
  leaf.ca_bundle = ca.cert_pem;
  return leaf;
}

inline MemberState* Member(ObservedState& o, int ord) {
  for (auto& m : *o.members) {
    if (naming::OrdinalFromPeerUrl("c", m.peer_url) == ord) return &m;
  }
  return nullptr;
}

inline ClusterSpec SecureSpec(int replicas) {
  ClusterSpec spec = Spec(replicas);
  spec.tls.client.enabled = spec.tls.peer.enabled = true;
  return spec;
}

// A running TLS cluster of 3 whose CA ("ca-key-1") and certificates were all issued at
// `issued`.
inline ObservedState TlsHealthy(const ClusterSpec& spec, TimePoint issued = kT0 - std::chrono::hours(24)) {
  ObservedState o = Healthy(spec, 3);
  o.tls.ca = IssuedCa(issued, "ca-key-1");
  for (const auto& want : NeededCertificates(spec)) {
    o.tls.leaves[want.use] = IssuedLeaf(want, o.tls.ca, issued, spec.tls.certificate_validity);
  }
  return o;
}

// ---------------------------------------------------------------- world simulator
struct World {
  ClusterSpec spec;
  ObservedState obs;
  TimePoint now = kT0;
  uint64_t next_id = 0x900;
  int steps = 0;
  int revisions = 1;             // the StatefulSet's template revisions so far
  std::string template_version;  // spec.version when the template was last written
  int pods_made = 0;
  int cas_made = 0;
  std::set<uint64_t> restarting;  // members whose pod was replaced: back on the next Settle
  std::vector<std::string> trace;
  std::vector<Action> actions;
  std::map<std::string, PeerListeners> template_peers;  // by template revision
  std::optional<PeerListeners> peer_before;

  int Voting() const {
    return static_cast<int>(std::count_if(obs.members->begin(), obs.members->end(), [](auto& m) { return !m.is_learner; }));
  }
  int HealthyVoting() const {
    return static_cast<int>(std::count_if(obs.members->begin(), obs.members->end(),
                                          [](auto& m) { return !m.is_learner && m.healthy; }));
  }
  MemberState* Leader() {
    for (auto& m : *obs.members) if (m.is_leader) return &m;
    return nullptr;
  }

  // Kubelet + StatefulSet controller + etcd, simplified: pods exist for ordinals below
  // replicas; a pod with a fresh volume and a bootstrap entry naming its member starts it.
  PodState NewPod() {
    return {true, false, false, now, "pod-" + std::to_string(++pods_made), obs.stateful_set.update_revision, template_version};
  }

  void Settle() {
    for (int i = 0; i < obs.stateful_set.replicas; ++i) {
      if (!obs.pods[i].exists) obs.pods[i] = NewPod();
      if (!spec.storage.empty_dir && !obs.volumes[i].exists) obs.volumes[i] = {true, "", now};
    }
    for (auto it = obs.pods.begin(); it != obs.pods.end();) {
      if (it->first >= obs.stateful_set.replicas) it = obs.pods.erase(it);
      else ++it;
    }
    if (!obs.members && obs.stateful_set.exists && obs.config_map.exists) {
      // Static bootstrap: members appear once every bootstrap pod runs.
      bool all = true;
      for (auto& [name, b] : obs.config_map.members) {
        auto ord = naming::OrdinalFromName("c", name);
        all = all && b.state == "new" && obs.pods[*ord].exists;
      }
      if (all && !obs.config_map.members.empty()) {
        obs.members.emplace();
        int i = 0;
        for (auto& [name, b] : obs.config_map.members) {
          MemberState m;
          m.id = next_id++;
          m.name = name;
          m.peer_url = naming::PeerUrl("c", "ns", *naming::OrdinalFromName("c", name), spec.tls.peer.enabled);
          m.healthy = true;
          m.is_leader = i++ == 0;
          m.raft_index = m.applied_index = 10;
          obs.members->push_back(m);
        }
      }
    }
    if (!obs.members) return;
    for (auto& m : *obs.members) {
      int ord = *naming::OrdinalFromPeerUrl("c", m.peer_url);
      if (restarting.erase(m.id) && obs.pods[ord].exists) {
        m.healthy = true;
        m.applied_index = Leader() ? Leader()->raft_index : m.applied_index;
      }
      auto key = obs.config_map.members.find(naming::Member("c", ord));
      if (m.name.empty() && obs.pods[ord].exists && key != obs.config_map.members.end() &&
          key->second.member_id == naming::MemberIdHex(m.id)) {
        m.name = naming::Member("c", ord);
        m.healthy = true;
        m.applied_index = Leader() ? Leader()->raft_index : 0;
      }
      if (!m.name.empty()) obs.pods[ord].ready = m.healthy;
    }
    obs.stateful_set.ready_replicas = 0;
    for (auto& [i, p] : obs.pods) obs.stateful_set.ready_replicas += p.ready;
  }

  void Apply(const Action& a) {
    trace.push_back(ActionKindName(a.kind));
    actions.push_back(a);
    switch (a.kind) {
      case ActionKind::kNone: case ActionKind::kWait: break;
      case ActionKind::kCreatePeerService: case ActionKind::kUpdatePeerService: obs.peer_service = {true, true}; break;
      case ActionKind::kCreateClientService: case ActionKind::kUpdateClientService: obs.client_service = {true, true}; break;
      case ActionKind::kCreateRestoreSecret: obs.restore_secret = true; break;
      case ActionKind::kCreatePreUpgradeBackup: obs.pre_upgrade_backup_phase = "Pending"; break;
      case ActionKind::kEnableAuth: case ActionKind::kDisableAuth:
        ASSERT_TRUE(obs.auth_enabled.has_value()) << "changed auth without knowing its state";
        ASSERT_NE(*obs.auth_enabled, a.kind == ActionKind::kEnableAuth) << "auth already " << *obs.auth_enabled;
        obs.auth_enabled = a.kind == ActionKind::kEnableAuth;
        break;
      case ActionKind::kCreateConfigMap:
        obs.config_map.exists = true;
        obs.config_map.token = naming::ClusterToken("c", spec.uid);
        for (int i = 0; i < a.replicas; ++i) obs.config_map.members[naming::Member("c", i)] = {a.initial_cluster, a.state, ""};
        break;
      case ActionKind::kWriteMemberBootstrap:
        obs.config_map.members[a.member_name] = {a.initial_cluster, a.state, naming::MemberIdHex(a.member_id)};
        obs.config_map.configured_at[a.member_name] = a.at;
        break;
      case ActionKind::kUpdateStartScript: obs.config_map.script_outdated = false; break;
      case ActionKind::kDeleteMemberBootstrap:
        obs.config_map.members.erase(a.member_name);
        obs.config_map.configured_at.erase(a.member_name);
        break;
      case ActionKind::kCreateStatefulSet:
        obs.stateful_set = {true, true, a.replicas, 0, "r1", true, {}, spec.tls.client.enabled, DesiredPeerListeners(spec, obs)};
        template_version = spec.version;
        break;
      case ActionKind::kUpdateStatefulSet:
        obs.stateful_set.template_up_to_date = true;
        obs.stateful_set.peer = DesiredPeerListeners(spec, obs);
        obs.stateful_set.update_revision = "r" + std::to_string(++revisions);
        template_peers[obs.stateful_set.update_revision] = obs.stateful_set.peer;
        obs.stateful_set.template_changed_at = a.at;
        template_version = spec.version;
        break;
      case ActionKind::kScaleStatefulSet: {
        ASSERT_GE(a.replicas, 1);
        for (auto& m : *obs.members) {
          if (!m.is_learner) {
            ASSERT_LT(*naming::OrdinalFromPeerUrl("c", m.peer_url), a.replicas) << "scaled away a voter's pod";
          }
        }
        obs.stateful_set.replicas = a.replicas;
        break;
      }
      case ActionKind::kCreatePdb: case ActionKind::kUpdatePdb: obs.pdb = {true, a.min_available}; break;
      case ActionKind::kAnnotateVolume: obs.volumes[a.ordinal].marker = naming::MemberIdHex(a.member_id); break;
      case ActionKind::kUpdatePeerUrl: {
        ASSERT_EQ(HealthyVoting(), Voting()) << "moved a peer URL with a member down";
        auto it = std::find_if(obs.members->begin(), obs.members->end(), [&](auto& m) { return m.id == a.member_id; });
        ASSERT_NE(it, obs.members->end());
        ASSERT_EQ(naming::OrdinalFromPeerUrl("c", a.peer_url), naming::OrdinalFromPeerUrl("c", it->peer_url));
        it->peer_url = a.peer_url;
        break;
      }
      case ActionKind::kAddLearner: {
        for (auto& m : *obs.members) ASSERT_FALSE(m.is_learner) << "second learner";
        MemberState m;
        m.id = next_id++;
        m.peer_url = a.peer_url;
        m.is_learner = true;
        obs.members->push_back(m);
        break;
      }
      case ActionKind::kPromoteLearner: {
        auto it = std::find_if(obs.members->begin(), obs.members->end(), [&](auto& m) { return m.id == a.member_id; });
        ASSERT_NE(it, obs.members->end());
        ASSERT_TRUE(it->is_learner);
        ASSERT_TRUE(it->healthy);
        ASSERT_GE(it->applied_index + 1000, Leader()->raft_index) << "promoted a learner that is behind";
        it->is_learner = false;
        break;
      }
      case ActionKind::kMoveLeader: {
        auto* l = Leader();
        ASSERT_NE(l, nullptr);
        l->is_leader = false;
        for (auto& m : *obs.members) if (m.id == a.member_id) { ASSERT_TRUE(m.healthy); m.is_leader = true; }
        break;
      }
      case ActionKind::kRemoveMember: {
        auto it = std::find_if(obs.members->begin(), obs.members->end(), [&](auto& m) { return m.id == a.member_id; });
        ASSERT_NE(it, obs.members->end());
        ASSERT_FALSE(it->is_leader) << "removed the leader";
        bool voter = !it->is_learner;
        int healthy_after = HealthyVoting() - (voter && it->healthy ? 1 : 0);
        int voting_after = Voting() - (voter ? 1 : 0);
        ASSERT_GE(voting_after, 1) << "removed the last member";
        if (voter) {
          ASSERT_GE(healthy_after, QuorumOf(voting_after)) << "removal lost quorum";
        }
        obs.members->erase(it);
        break;
      }
      case ActionKind::kDeletePvc: {
        ASSERT_FALSE(obs.pods[a.ordinal].exists) << "deleted the PVC of a running pod";
        obs.volumes.erase(a.ordinal);
        break;
      }
      case ActionKind::kRestartPod: obs.pods[a.ordinal] = NewPod(); break;
      case ActionKind::kCreateCa:
        ASSERT_FALSE(obs.tls.ca.exists) << "a second CA would orphan every certificate";
        obs.tls.ca = IssuedCa(a.at, "ca-key-" + std::to_string(++cas_made));
        obs.tls.rotation_answered = spec.tls.rotate_ca_request;
        break;
      case ActionKind::kUpdateTrustBundle:
        ASSERT_TRUE(obs.tls.leaves[a.certificate].valid) << a.certificate;
        obs.tls.leaves[a.certificate].ca_bundle = TrustBundle(obs.tls);
        break;
      case ActionKind::kStartCaRotation:
        ASSERT_FALSE(obs.tls.next_ca.exists || obs.tls.previous_ca.exists) << "a rotation is already under way";
        obs.tls.next_ca = IssuedCa(a.at, "ca-key-" + std::to_string(++cas_made));
        obs.tls.rotation_answered = spec.tls.rotate_ca_request;
        obs.tls.rotation_started = a.at;
        break;
      case ActionKind::kSwitchCa:
        ASSERT_TRUE(obs.tls.next_ca.valid) << "switched without a next CA";
        obs.tls.previous_ca = obs.tls.ca;
        obs.tls.ca = obs.tls.next_ca;
        obs.tls.next_ca = {};
        obs.tls.ca_switched = a.at;
        break;
      case ActionKind::kApplyCertManagerCertificate: {
        // cert-manager answers at once: the Secret, from the issuer's CA.
        obs.tls.requests[a.certificate] = {true, true};
        for (const auto& want : ManagedCertificates(spec)) {
          if (want.use == a.certificate) {
            obs.tls.leaves[want.use] = IssuedLeaf(want, IssuedCa(kT0, "issuer-key"), now, spec.tls.certificate_validity);
          }
        }
        break;
      }
      case ActionKind::kFinishCaRotation:
        ASSERT_TRUE(obs.tls.previous_ca.exists) << "finished a rotation that was not switched";
        obs.tls.previous_ca = {};
        break;
      case ActionKind::kIssueCertificate: {
        ASSERT_TRUE(obs.tls.ca.valid);
        bool found = false;
        for (const auto& want : NeededCertificates(spec)) {
          if (want.use != a.certificate) continue;
          found = true;
          obs.tls.leaves[want.use] = IssuedLeaf(want, obs.tls.ca, a.at, spec.tls.certificate_validity);
          obs.tls.leaves[want.use].ca_bundle = TrustBundle(obs.tls);
        }
        ASSERT_TRUE(found) << a.certificate;
        break;
      }
      case ActionKind::kReplacePod: {
        ASSERT_EQ(obs.pods[a.ordinal].uid, a.pod_uid);
        auto it = std::find_if(obs.members->begin(), obs.members->end(),
                               [&](auto& m) { return *naming::OrdinalFromPeerUrl("c", m.peer_url) == a.ordinal; });
        ASSERT_NE(it, obs.members->end());
        ASSERT_TRUE(!it->is_leader || Voting() == 1) << "restarted the leader without moving leadership first";
        ASSERT_GE(HealthyVoting() - (it->healthy ? 1 : 0), QuorumOf(Voting())) << "a restart lost quorum";
        obs.pods[a.ordinal] = NewPod();
        it->healthy = false;
        restarting.insert(it->id);
        break;
      }
    }
  }

  // Every member can be reached by every other: its pod listens on the peer endpoint it
  // advertises, and a TLS endpoint is dialed only by pods that have a peer certificate.
  // Also what the observer does: a template that is not the one this pass wants (for
  // the peer listeners, that depends on the member list) is not up to date.
  void CheckPeerReachability() {
    if (!obs.stateful_set.exists || !obs.members) return;
    template_peers.emplace(obs.stateful_set.update_revision, obs.stateful_set.peer);
    // Pods made before the world first looked run what the StatefulSet had then.
    if (!peer_before) peer_before = obs.stateful_set.peer;
    auto listeners_of = [&](const PodState& pod) -> const PeerListeners& {
      auto t = template_peers.find(pod.revision);
      return t != template_peers.end() ? t->second : *peer_before;
    };
    if (!(obs.stateful_set.peer == DesiredPeerListeners(spec, obs))) obs.stateful_set.template_up_to_date = false;
    for (const auto& m : *obs.members) {
      const int ord = *naming::OrdinalFromPeerUrl("c", m.peer_url);
      if (!obs.pods[ord].exists || restarting.count(m.id)) continue;
      auto address = ParseMemberPeerUrl(spec, m.peer_url);
      ASSERT_TRUE(address.has_value()) << m.peer_url;
      const PeerListeners& own = listeners_of(obs.pods[ord]);
      ASSERT_TRUE(own.advertised == address->endpoint || own.also == address->endpoint)
          << m.peer_url << " is not served by its pod (template " << obs.pods[ord].revision << ")";
      if (!address->endpoint.tls) continue;
      for (const auto& [other, pod] : obs.pods) {
        if (other != ord && pod.exists) {
          ASSERT_TRUE(listeners_of(pod).AnyTls()) << "pod " << other << " dials " << m.peer_url
                                                                 << " without a peer certificate";
        }
      }
    }
  }

  // Runs the planner until it reports convergence. Each pass is a fresh planner, which
  // is exactly what an operator restart between any two steps looks like.
  Plan Converge(int max_steps = 200) {
    Plan p;
    for (int i = 0; i < max_steps; ++i) {
      Settle();
      p = PlanNext(spec, obs, now);
      if (p.action.kind == ActionKind::kNone) return p;
      Apply(p.action);
      CheckPeerReachability();
      if (::testing::Test::HasFatalFailure()) return p;
      now += p.action.requeue_after + seconds(1);
      ++steps;
    }
    ADD_FAILURE() << "did not converge; last action " << ActionKindName(p.action.kind) << ": " << p.action.message;
    return p;
  }

  void ExpectConverged(int n) {
    ASSERT_TRUE(obs.members.has_value());
    EXPECT_EQ(Voting(), n);
    EXPECT_EQ(HealthyVoting(), n);
    EXPECT_EQ(obs.stateful_set.replicas, n);
    EXPECT_EQ(obs.pdb.min_available, QuorumOf(n));
    std::set<int> ords;
    for (auto& m : *obs.members) {
      EXPECT_FALSE(m.is_learner);
      ords.insert(*naming::OrdinalFromPeerUrl("c", m.peer_url));
      EXPECT_EQ(obs.volumes[*naming::OrdinalFromPeerUrl("c", m.peer_url)].marker, naming::MemberIdHex(m.id));
    }
    EXPECT_EQ(static_cast<int>(ords.size()), n);
    EXPECT_EQ(*ords.rbegin(), n - 1) << "ordinals are not dense";
    EXPECT_EQ(static_cast<int>(obs.config_map.members.size()), n);
  }
};

inline World MakeWorld(const ClusterSpec& spec) {
  World w;
  w.spec = spec;
  return w;
}

}  // namespace cairn::op::testing
