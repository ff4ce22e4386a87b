// PeerClient: unary calls from this member to another one's peer API (cluster info
// for joining, lease operations and membership changes forwarded to the leader).
//
// Channels are cached per URL and re-used. Every call has a deadline. gRPC errors
// come back as Status with the same code and message.
// Thread-safety: thread-safe.
#pragma once

#include <grpcpp/channel.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cairn/peer.grpc.pb.h"
#include "server/common/status.h"
#include "server/transport/tls.h"

namespace cairn::transport {

class PeerClient {
 public:
  // https peers are dialed with TLS from this member's peer TLS files (tls.h).
  explicit PeerClient(TlsFiles tls = {}) : tls_(std::move(tls)) {}

  // Asks each URL in turn; the first answer wins. Unavailable if none answers.
  Result<cairnpb::ClusterInfo> GetClusterInfo(const std::vector<std::string>& peer_urls,
                                              std::chrono::milliseconds timeout);
  Result<int64_t> LeaseRenew(const std::vector<std::string>& peer_urls, int64_t id, std::chrono::milliseconds timeout);
  Result<etcdserverpb::LeaseTimeToLiveResponse> LeaseTimeToLive(const std::vector<std::string>& peer_urls,
                                                                const etcdserverpb::LeaseTimeToLiveRequest& request,
                                                                std::chrono::milliseconds timeout);
  Result<cairnpb::MemberChangeResponse> MemberChange(const std::vector<std::string>& peer_urls,
                                                     const cairnpb::MemberChangeRequest& request,
                                                     std::chrono::milliseconds timeout);
  // Streams the store file at `path` with its MsgSnap to the peer; returns once the peer
  // has installed it. `cancelled` is polled between chunks.
  Status SendSnapshot(const std::vector<std::string>& peer_urls, uint64_t cluster_id, const std::string& raft_message,
                      const std::string& path, const std::function<bool()>& cancelled);

 private:
  template <typename Call>
  Status CallFirst(const std::vector<std::string>& peer_urls, std::chrono::milliseconds timeout, Call call);
  Result<std::shared_ptr<grpc::Channel>> ChannelFor(const std::string& url);

  const TlsFiles tls_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;  // guarded by mu_
};

}  // namespace cairn::transport
