// LeaseForwarding: where lease keep-alives and TTL questions are answered (etcd's
// LeaseRenew/LeaseTimeToLive in v3_server.go). Only the leader's lessor runs lease
// clocks (a follower's leases never expire on their own), so the leader answers from
// its lessor and a follower forwards the question to the leader's peer URLs. A
// forwarded call that reaches a member that is no longer leader is reported as etcd's
// "leader changed", which clients retry; with no leader known, etcd's "no leader".
//
// Thread-safety: every method may be called from any thread concurrently (the lessor
// and the functions given are thread-safe); no state of its own changes after
// construction. Forwarding blocks the caller for up to the timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "etcd/api/etcdserverpb/rpc.pb.h"
#include "server/common/status.h"
#include "server/lease/lessor.h"
#include "server/transport/peer_client.h"

namespace cairn::etcdserver {

// The calls a follower makes to the leader (transport::PeerClient's, in production).
class LeaderLeaseClient {
 public:
  virtual ~LeaderLeaseClient() = default;
  virtual Result<int64_t> Renew(const std::vector<std::string>& leader_urls, int64_t id,
                                std::chrono::milliseconds timeout) = 0;
  virtual Result<etcdserverpb::LeaseTimeToLiveResponse> TimeToLive(
      const std::vector<std::string>& leader_urls, const etcdserverpb::LeaseTimeToLiveRequest& request,
      std::chrono::milliseconds timeout) = 0;
};

// LeaderLeaseClient over the peer connection.
class PeerLeaseClient final : public LeaderLeaseClient {
 public:
  explicit PeerLeaseClient(transport::PeerClient* client) : client_(client) {}
  Result<int64_t> Renew(const std::vector<std::string>& leader_urls, int64_t id,
                        std::chrono::milliseconds timeout) override {
    return client_->LeaseRenew(leader_urls, id, timeout);
  }
  Result<etcdserverpb::LeaseTimeToLiveResponse> TimeToLive(const std::vector<std::string>& leader_urls,
                                                           const etcdserverpb::LeaseTimeToLiveRequest& request,
                                                           std::chrono::milliseconds timeout) override {
    return client_->LeaseTimeToLive(leader_urls, request, timeout);
  }

 private:
  transport::PeerClient* const client_;
};

class LeaseForwarding {
 public:
  // The leader as this member knows it: whether it is this member, else its peer URLs.
  struct Leader {
    bool is_self = false;
    std::vector<std::string> peer_urls;
  };
  struct Parts {
    uint64_t self = 0;  // this member's ID, for error messages
    lease::Lessor* lessor = nullptr;
    // The current leader, or ErrNoLeader.
    std::function<Result<Leader>()> leader;
    // Returns once this member applied everything committed before the call
    // (EtcdServer::ReadBarrier), so a TTL answer reflects every earlier write.
    std::function<Status()> read_barrier;
    LeaderLeaseClient* client = nullptr;
    std::chrono::milliseconds timeout{0};
  };
  explicit LeaseForwarding(Parts parts);

  // Renews lease `id`; returns its TTL in seconds.
  Result<int64_t> Renew(int64_t id);
  Result<etcdserverpb::LeaseTimeToLiveResponse> TimeToLive(const etcdserverpb::LeaseTimeToLiveRequest& request);
  // The leader's side of a forwarded call: FailedPrecondition on a member that is not
  // (any more) the leader, which the forwarding member reports as "leader changed".
  Result<int64_t> RenewAsLeader(int64_t id);
  Result<etcdserverpb::LeaseTimeToLiveResponse> TimeToLiveAsLeader(const etcdserverpb::LeaseTimeToLiveRequest& request);

 private:
  Status NotLeader() const;

  const Parts parts_;
};

}  // namespace cairn::etcdserver
