// MembershipClient: the operator's view of a Cairn (or etcd) cluster through the etcd v3
// gRPC API — Cluster (MemberList/Add/Promote/Remove) and Maintenance (Status/MoveLeader).
//
// Every RPC carries a deadline (the `timeout` given at construction). Calls that need
// any member try the endpoints in order until one answers; MoveLeader is sent to the
// current leader, as etcd requires. Errors are returned as Status values with gRPC's
// canonical codes; "learner not in sync" on promote is FailedPrecondition so the caller
// can simply wait and retry.
//
// Endpoints and the members' advertised client URLs are http:// (plaintext) or https://
// (TLS with the ClientTls given at construction: the member's certificate is verified
// against ca_pem and the URL's host, and cert_pem/key_pem are presented when given). A
// call on an https URL without TLS material fails with FailedPrecondition rather than
// trusting the system roots; any other scheme is InvalidArgument.
//
// With a ClientAuth (a cluster with etcd auth on: spec.auth), calls carry a token from
// Auth.Authenticate on the member they go to: simple tokens are valid only on the member
// that issued them, and die with it. A call goes with the token that member issued
// last, or none; one refused for its token (none, invalid, or issued before an auth
// change) is repeated once with a new token. Authenticating costs the member a bcrypt
// check, so calls that need no user (MemberList, Status) never cause one. Snapshot and
// Watch streams start with a new token. A member with auth off answers Authenticate with
// "authentication is not enabled"; calls then go without a token.
// Thread-safety: all methods are safe to call concurrently (gRPC stubs are thread-safe;
// the only mutable state, the cache of channels and tokens, is guarded by a mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "operator/etcd/event_watch.h"
#include "operator/etcd/snapshot_stream.h"
#include "operator/reconcile/observed.h"
#include "operator/etcd/tls_probe.h"
#include "server/common/status.h"

namespace cairn::op {

// The etcd user the operator authenticates as: it needs the root role, which membership
// changes, leader moves, snapshots and HashKV require once auth is on.
struct ClientAuth {
  std::string user;
  std::string password;
  bool Enabled() const { return !user.empty(); }
};

struct MemberInfo {
  uint64_t id = 0;
  std::string name;
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool is_learner = false;
};

// Maintenance.HashKV: the hash of the store's keys and history up to a revision.
struct KvHash {
  uint32_t hash = 0;
  int64_t compact_revision = 0;
  int64_t revision = 0;  // the member's revision when it answered
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
  // endpoints: client URLs such as "http://10.0.0.1:2379" or "https://m0.cairn.ns.svc:2379".
  MembershipClient(std::vector<std::string> endpoints, std::chrono::milliseconds timeout, ClientTls tls = {},
                   ClientAuth auth = {});
  ~MembershipClient();
  MembershipClient(const MembershipClient&) = delete;
  MembershipClient& operator=(const MembershipClient&) = delete;

  Result<std::vector<MemberInfo>> List();
  Result<MemberInfo> AddLearner(const std::string& peer_url);
  Status Promote(uint64_t id);
  // MemberUpdate: the member's peer URLs become `peer_urls`.
  Status UpdatePeerUrls(uint64_t id, const std::vector<std::string>& peer_urls);
  Status Remove(uint64_t id);
  // Transfers leadership to `to`. Finds the leader first; OK if `to` already leads.
  Status MoveLeader(uint64_t to);
  Result<EndpointStatus> StatusOf(const std::string& client_url);
  // A linearizable (quorum) read through any member that serves one.
  Status LinearizableRead();
  // etcd auth, through any member. AuthEnabled authenticates as the ClientAuth (none:
  // FailedPrecondition): "authentication is not enabled" means off. EnableAuth needs the
  // ClientAuth to be root: it adds root with its password unless root exists, grants it
  // the root role and enables auth. DisableAuth needs a root token once auth is on.
  Result<bool> AuthEnabled();
  Status EnableAuth();
  Status DisableAuth();

  // The member list joined with each member's own Status (queried on its first client
  // URL): what the planner consumes. A member that does not answer is unhealthy.
  Result<std::vector<MemberState>> Observe();

  // tls_probe.h's probe of the listener at `https_url` (a client or peer URL),
  // presenting `as` instead of the client's own certificate: InvalidArgument for a URL
  // that is not https, otherwise as ProbeTls, with the client's timeout.
  Result<TlsProbe> ProbeTls(const std::string& https_url, const ClientTls& as);
  // The certificate the member at `https_url` serves, as PEM: ProbeTls with the client's
  // own certificate and CA, e.g. to confirm a rotated certificate is in use.
  Result<std::string> ServedCertificate(const std::string& https_url);

  // Maintenance.Snapshot from the member at `client_url`, for backups: Unavailable if it
  // cannot be reached within the client's timeout; the whole stream must end within
  // `limit` (a stuck member cannot hold a backup forever).
  Result<std::unique_ptr<SnapshotStream>> OpenSnapshot(const std::string& client_url, std::chrono::seconds limit);
  // A Watch on every key from `start_revision` on, at the member at `client_url`, for
  // delta backups: Unavailable if it cannot be reached within the client's timeout.
  Result<std::unique_ptr<EventWatch>> OpenWatch(const std::string& client_url, int64_t start_revision);
  // Maintenance.HashKV at `revision` (0: the current one) on the member at `client_url`.
  Result<KvHash> HashKV(const std::string& client_url, int64_t revision);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::op
