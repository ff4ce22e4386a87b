// ExecuteAction: carries out the planner's one Action — one API call or one membership
// RPC — idempotently: "already exists" on a create and "not found" on a delete are
// success (a previous pass, or a crash after the call, may have done it already).
// Object writes merge the desired fields into the live object (read-modify-write with
// conflict retry) so fields the API server fills in (clusterIP, defaults) survive.
// Thread-safety: stateless; the client and membership must be usable from this thread.
#pragma once

#include "operator/api/cluster_spec.h"
#include "operator/controller/membership.h"
#include "operator/kube/client.h"
#include "operator/reconcile/action.h"
#include "operator/reconcile/observed.h"

namespace cairn::op {

Status ExecuteAction(kube::Client& client, Membership& membership, const ClusterSpec& spec,
                     const ObservedState& observed, const Action& action);

}  // namespace cairn::op
