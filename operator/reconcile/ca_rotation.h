// CA rotation: replacing a cluster's CA while every client and member keeps working,
// with no member restart. Pure; the planner asks it for the next step once the cluster
// is otherwise converged, after every leaf certificate is what certificates.h wants.
//
// The phases live in the CA Secret (certificates.h's keys), so an operator that crashes
// between any two steps reads where it was:
//   none      ca.crt/ca.key. Started by a new value of the EtcdCluster's rotate-ca
//             annotation, or when the CA has lived two thirds of its life: a new CA is
//             written as next.crt/next.key, and the rotation's start is recorded.
//   trusting  next.* present. Every leaf's ca.crt becomes "CA + next CA" (certificates.h
//             rewrites bundles only; leaves keep their keys). Switch once every started
//             member accepts a client certificate signed by the next CA on each listener
//             that checks client certificates (peer always; client with clientCertAuth),
//             which proves its mounted bundle was reloaded, and `grace` has passed since
//             the start, for applications that mount <cluster>-client-tls to reload too.
//   switched  previous.crt present: the next CA became ca.crt/ca.key and signs; every
//             leaf is reissued from it (certificates.h: "signed by another CA"). Finish
//             once every started member serves certificates signed by the new CA on its
//             client and peer listeners, and `grace` has passed since the switch, for
//             applications to pick up their reissued client certificate.
//   finish    previous.crt removed; bundles become the new CA alone.
// At every point each member serves a certificate that every other member, the
// operator and the applications trust, and is trusted with the certificate it presents.
// Thread-safety: stateless.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "operator/api/cluster_spec.h"
#include "operator/reconcile/observed.h"

namespace cairn::op {

enum class CaRotationPhase { kNone, kTrusting, kSwitched };

CaRotationPhase PhaseOf(const TlsState& tls);

struct CaRotationStep {
  enum class Kind { kNone, kStart, kSwitch, kFinish, kWait };
  Kind kind = Kind::kNone;
  std::string reason;   // CamelCase, for the condition and the event
  std::string message;
};

// REQUIRES: spec.tls.AnyAuto(), tls.ca valid, and no leaf needing a change
// (certificates.h). Only the sides whose source is "auto" are looked at.
// `started`: the ordinals of the members that have started (the ones probed).
CaRotationStep PlanCaRotation(const ClusterSpec& spec, const TlsState& tls, const std::vector<int>& started,
                              TimePoint now, std::chrono::seconds grace);

}  // namespace cairn::op
