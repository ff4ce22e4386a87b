// BuildStatus: the EtcdCluster .status rebuilt from scratch from what was observed and
// planned in this pass (level-triggered: nothing is carried over except each condition's
// lastTransitionTime, which Kubernetes convention keeps while its status is unchanged).
// Pure; the clock is passed in. Thread-safety: stateless.
#pragma once

#include <nlohmann/json.hpp>

#include "operator/api/cluster_spec.h"
#include "operator/api/time_format.h"
#include "operator/reconcile/observed.h"
#include "operator/reconcile/planner.h"

namespace cairn::op {

nlohmann::json BuildStatus(const ClusterSpec& spec, const ObservedState& observed, const Plan& plan,
                           const nlohmann::json& previous_status, TimePoint now);

}  // namespace cairn::op
