// PeerService: the receiving side of the peer API (proto/cairn/peer.proto).
//
// Each call must first pass etcd's check of the caller's certificate SANs against its
// address (PERMISSION_DENIED otherwise). Each inbound Peer.Stream is read on its own gRPC
// thread; every message is checked (cluster ID, decodable) and handed to the member. A stream from another cluster is
// ended with FAILED_PRECONDITION; an undecodable message ends the stream with
// INVALID_ARGUMENT (a peer that sends garbage must not be trusted with more).
// Thread-safety: the handler's methods are called concurrently from gRPC threads.
#pragma once

#include <mutex>
#include <string>

#include "cairn/peer.grpc.pb.h"
#include "server/common/status.h"
#include "server/raft/message.h"
#include "server/transport/peer_san_check.h"

namespace cairn::transport {

class PeerHandler {
 public:
  virtual ~PeerHandler() = default;
  virtual uint64_t ClusterId() const = 0;
  // Hands one message to the local Raft node. An error ends the sender's stream;
  // PermissionDenied tells the sender it was removed from the cluster.
  virtual Status DeliverFromPeer(raft::Message message) = 0;
  virtual cairnpb::ClusterInfo GetClusterInfo() const = 0;
  // Leader-only lease operations; FailedPrecondition on a member that is not leader.
  virtual Result<int64_t> RenewLeaseAsLeader(int64_t id) = 0;
  virtual Result<etcdserverpb::LeaseTimeToLiveResponse> LeaseTimeToLiveAsLeader(
      const etcdserverpb::LeaseTimeToLiveRequest& request) = 0;
  // A membership change another member authorized (peer.proto's MemberChange), carried
  // out here; FailedPrecondition on a member that is not leader.
  virtual Result<cairnpb::MemberChangeResponse> ChangeMembershipAsLeader(const cairnpb::MemberChangeRequest& request) = 0;
  // Where an incoming snapshot's file is written while it arrives.
  virtual std::string SnapshotScratchPath() = 0;
  // Installs a received, verified snapshot (`message` is its MsgSnap, `path` the store
  // file, which the handler takes over) and hands the message to Raft.
  virtual Status InstallSnapshot(raft::Message message, const std::string& path) = 0;
};

class PeerService final : public cairnpb::Peer::Service {
 public:
  // Every call must first pass `san_check` (peer_san_check.h), unless it is null.
  PeerService(PeerHandler* handler, PeerSanCheck* san_check) : handler_(handler), san_check_(san_check) {}

  grpc::Status Stream(grpc::ServerContext* context, grpc::ServerReader<cairnpb::PeerMessage>* reader,
                      cairnpb::PeerStreamSummary* summary) override;
  grpc::Status GetClusterInfo(grpc::ServerContext* context, const cairnpb::ClusterInfoRequest* request,
                              cairnpb::ClusterInfo* response) override;
  grpc::Status LeaseRenew(grpc::ServerContext* context, const cairnpb::LeaseRenewRequest* request,
                          cairnpb::LeaseRenewResponse* response) override;
  grpc::Status LeaseTimeToLive(grpc::ServerContext* context, const etcdserverpb::LeaseTimeToLiveRequest* request,
                               etcdserverpb::LeaseTimeToLiveResponse* response) override;
  grpc::Status MemberChange(grpc::ServerContext* context, const cairnpb::MemberChangeRequest* request,
                            cairnpb::MemberChangeResponse* response) override;
  // One snapshot at a time; a second sender gets RESOURCE_EXHAUSTED and retries later.
  grpc::Status SendSnapshot(grpc::ServerContext* context, grpc::ServerReader<cairnpb::SnapshotChunk>* reader,
                            cairnpb::SnapshotAck* ack) override;

 private:
  Status Admit(const grpc::ServerContext& context);

  PeerHandler* handler_;
  PeerSanCheck* san_check_;
  std::mutex snapshot_mu_;  // held while a snapshot is received
};

}  // namespace cairn::transport
