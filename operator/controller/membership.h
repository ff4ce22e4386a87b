// Membership: the controller's seam to a cluster's etcd v3 membership API, so tests can
// substitute a simulated cluster. EtcdMembership adapts MembershipClient (real gRPC).
// A MembershipFactory builds one per reconcile pass for the endpoints the controller
// derives from the spec (member client URLs by ordinal).
// Thread-safety: implementations must allow calls from any one thread at a time.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "operator/api/cluster_spec.h"
#include "operator/etcd/membership_client.h"
#include "operator/reconcile/observed.h"
#include "server/common/status.h"

namespace cairn::op {

class Membership {
 public:
  virtual ~Membership() = default;
  virtual Result<std::vector<MemberState>> Observe() = 0;
  virtual Status AddLearner(const std::string& peer_url) = 0;
  // MemberUpdate of the member's peer URL (peer_listeners.h: moving to or from TLS).
  virtual Status UpdatePeerUrl(uint64_t id, const std::string& peer_url) = 0;
  virtual Status Promote(uint64_t id) = 0;
  virtual Status Remove(uint64_t id) = 0;
  virtual Status MoveLeader(uint64_t to) = 0;
  // A quorum read through any member: the rollout's proof that the cluster serves.
  virtual Status LinearizableRead() = 0;
  // tls_probe.h's probe of a member's https listener, presenting `as`.
  virtual Result<TlsProbe> ProbeTls(const std::string& https_url, const ClientTls& as) = 0;
  // Whether etcd auth is on, found by authenticating as the factory's ClientAuth.
  virtual Result<bool> AuthEnabled() = 0;
  // Turns etcd auth on as `etcdctl user add root`, `user grant-role root root` and `auth
  // enable` would, with the ClientAuth's password for root; or off.
  virtual Status EnableAuth() = 0;
  virtual Status DisableAuth() = 0;
};

// `tls`: the operator's client certificate and the CA for https endpoints; `auth`: the
// user it authenticates as where etcd auth is on (spec.auth), or none.
using MembershipFactory = std::function<std::unique_ptr<Membership>(
    const ClusterSpec& spec, const std::vector<std::string>& endpoints, const ClientTls& tls, const ClientAuth& auth)>;

// The real thing: etcd v3 gRPC with the given per-call deadline.
MembershipFactory EtcdMembershipFactory(std::chrono::milliseconds timeout);

}  // namespace cairn::op
