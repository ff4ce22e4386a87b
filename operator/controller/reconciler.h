// Reconciler: one level-triggered pass over one EtcdCluster:
//   read the EtcdCluster and its children (the TLS Secrets too) fresh from the API server (no cache, so a pass
//   never acts on a view older than its own previous write) and the member list ->
//   ObserveObjects -> PlanNext -> write .status through the status subresource if it
//   changed -> execute the plan's one action -> tell the caller when to look again.
// Nothing is carried between passes, so a crash anywhere is recovered by the next pass.
// `may_act` is asked before every write; when it says no (leadership lost) the pass
// stops without writing anything. With an EventRecorder, each action taken is recorded
// as a Normal Event on the EtcdCluster (reason and message as in its condition), and
// each failure, and each pass whose plan is blocked (a stalled rollout, a refused
// version change), as a Warning.
// Thread-safety: Reconcile may run concurrently for different keys.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "operator/controller/event_recorder.h"
#include "operator/controller/membership.h"
#include "operator/controller/metrics.h"
#include "operator/controller/observe.h"
#include "operator/kube/client.h"
#include "operator/reconcile/planner.h"

namespace cairn::op {

struct ReconcilerOptions {
  PlannerConfig planner;
  std::function<TimePoint()> clock = [] { return Clock::now(); };
  MembershipFactory membership;
  std::function<bool()> may_act = [] { return true; };
  Metrics* metrics = nullptr;  // optional
  EventRecorder* events = nullptr;  // optional
  std::string default_image_repository = "cairn";  // image of clusters without spec.image
  std::string operator_image;  // cairn-operator's own image: restores run its fetch-backup
};

struct ReconcileOutcome {
  Status status;                         // non-OK: the caller backs off
  std::optional<std::chrono::milliseconds> requeue_after;  // nullopt: nothing to do (gone)
  ActionKind action = ActionKind::kNone;
};

class Reconciler {
 public:
  Reconciler(kube::Client& client, ReconcilerOptions options);
  ReconcileOutcome Reconcile(const std::string& ns, const std::string& name);

 private:
  void Report(const nlohmann::json& cluster, EventType type, const std::string& reason, const std::string& message);

  kube::Client& client_;
  const ReconcilerOptions options_;
};

// Member client URLs to ask for the member list: every ordinal that may run a member,
// with the scheme its pod serves (`running`), or the pod template's (`serving_tls`) for
// an ordinal without a pod; then each with the other scheme while a change of
// spec.tls.client rolls out: while the template or the spec asks for it, or while pods
// still serve it. Dialing a pod on the scheme it does not serve costs a call its whole
// timeout, so the scheme each pod serves comes first.
std::vector<std::string> MemberEndpoints(const ClusterSpec& spec, int32_t sts_replicas, bool serving_tls,
                                         const ClientSchemes& running = {});
// The Secret with the operator's client certificate: the spec's; once spec.tls.client is
// gone, the one the StatefulSet recorded while it served TLS (a `secret` source names
// its own), which pods not yet rolled to plaintext still require.
std::string OperatorTlsSecretName(const ChildObjects& children, const ClusterSpec& spec);
// With client TLS in the spec or still served by the pod template (`serving_tls`), the
// operator's certificate from its Secret (empty until issued).
ClientTls OperatorClientTls(const ChildObjects& children, const ClusterSpec& spec, bool serving_tls);
// With spec.auth, the user and password in its Secret (among `children`'s Secrets);
// FailedPrecondition naming what is missing when the Secret or its password is. Without
// spec.auth, no user: the operator calls without credentials.
Result<ClientAuth> OperatorClientAuth(const ChildObjects& children, const ClusterSpec& spec);

}  // namespace cairn::op
