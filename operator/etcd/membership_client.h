// MembershipClient: the operator's view of a Cairn (or etcd) cluster through the etcd v3
// gRPC API — Cluster (MemberList/Add/Promote/Remove) and Maintenance (Status/MoveLeader).
//
// Every RPC carries a deadline (the `timeout` given at construction). Calls that need
// any member try the endpoints in order until one answers; MoveLeader is sent to the
// current leader, as etcd requires. Errors are returned as Status values with gRPC's
// canonical codes; "learner not in sync" on promote is FailedPrecondition so the caller
// can simply wait and retry.
// Thread-safety: all methods are safe to call concurrently (gRPC stubs are thread-safe;
// the object holds no mutable state after construction).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "operator/reconcile/observed.h"
#include "server/common/status.h"

namespace cairn::op {

struct MemberInfo {
  uint64_t id = 0;
  std::string name;
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool is_learner = false;
};

struct EndpointStatus {
  uint64_t member_id = 0;  // from the response header
  uint64_t leader = 0;
  uint64_t raft_index = 0;
  uint64_t raft_applied_index = 0;
  bool is_learner = false;
  std::string version;
  std::vector<std::string> errors;
};

class MembershipClient {
 public:
  // endpoints: client URLs such as "http://10.0.0.1:2379" (https is not supported yet).
  MembershipClient(std::vector<std::string> endpoints, std::chrono::milliseconds timeout);
  ~MembershipClient();
  MembershipClient(const MembershipClient&) = delete;
  MembershipClient& operator=(const MembershipClient&) = delete;

  Result<std::vector<MemberInfo>> List();
  Result<MemberInfo> AddLearner(const std::string& peer_url);
  Status Promote(uint64_t id);
  Status Remove(uint64_t id);
  // Transfers leadership to `to`. Finds the leader first; OK if `to` already leads.
  Status MoveLeader(uint64_t to);
  Result<EndpointStatus> StatusOf(const std::string& client_url);
  // A linearizable (quorum) read through any member that serves one.
  Status LinearizableRead();

  // The member list joined with each member's own Status (queried on its first client
  // URL): what the planner consumes. A member that does not answer is unhealthy.
  Result<std::vector<MemberState>> Observe();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::op
