#include "server/transport/peer_client.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <cstdio>
#include <memory>

#include "server/transport/grpc_address.h"
#include "server/transport/snapshot_file.h"

namespace cairn::transport {

Result<std::shared_ptr<grpc::Channel>> PeerClient::ChannelFor(const std::string& url) {
  std::lock_guard lock(mu_);
  auto it = channels_.find(url);
  if (it != channels_.end()) return it->second;
  auto target = DialTarget(url);
  if (!target.ok()) return target.status();
  auto channel = grpc::CreateChannel(target.value(), ChannelCredentialsFor(url, tls_));
  channels_[url] = channel;
  return channel;
}

template <typename Call>
Status PeerClient::CallFirst(const std::vector<std::string>& peer_urls, std::chrono::milliseconds timeout, Call call) {
  Status last = Status::Unavailable("no peer URL to call");
  for (const auto& url : peer_urls) {
    auto channel = ChannelFor(url);
    if (!channel.ok()) {
      last = channel.status();
      continue;
    }
    auto stub = cairnpb::Peer::NewStub(channel.value());
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + timeout);
    const grpc::Status st = call(*stub, context);
    if (st.ok()) return Status::Ok();
    last = Status(static_cast<StatusCode>(st.error_code()), st.error_message());
    // The peer answered: its answer stands; another URL of the same peer would say the same.
    if (st.error_code() != grpc::StatusCode::UNAVAILABLE && st.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
      return last;
    }
  }
  return last;
}

Result<cairnpb::ClusterInfo> PeerClient::GetClusterInfo(const std::vector<std::string>& peer_urls,
                                                        std::chrono::milliseconds timeout) {
  cairnpb::ClusterInfo info;
  CAIRN_RETURN_IF_ERROR(CallFirst(peer_urls, timeout, [&](cairnpb::Peer::Stub& stub, grpc::ClientContext& ctx) {
    return stub.GetClusterInfo(&ctx, cairnpb::ClusterInfoRequest(), &info);
  }));
  return info;
}

Result<int64_t> PeerClient::LeaseRenew(const std::vector<std::string>& peer_urls, int64_t id,
                                       std::chrono::milliseconds timeout) {
  cairnpb::LeaseRenewRequest request;
  request.set_id(id);
  cairnpb::LeaseRenewResponse response;
  CAIRN_RETURN_IF_ERROR(CallFirst(peer_urls, timeout, [&](cairnpb::Peer::Stub& stub, grpc::ClientContext& ctx) {
    return stub.LeaseRenew(&ctx, request, &response);
  }));
  return response.ttl();
}

Result<etcdserverpb::LeaseTimeToLiveResponse> PeerClient::LeaseTimeToLive(
    const std::vector<std::string>& peer_urls, const etcdserverpb::LeaseTimeToLiveRequest& request,
    std::chrono::milliseconds timeout) {
  etcdserverpb::LeaseTimeToLiveResponse response;
  CAIRN_RETURN_IF_ERROR(CallFirst(peer_urls, timeout, [&](cairnpb::Peer::Stub& stub, grpc::ClientContext& ctx) {
    return stub.LeaseTimeToLive(&ctx, request, &response);
  }));
  return response;
}

Result<cairnpb::MemberChangeResponse> PeerClient::MemberChange(const std::vector<std::string>& peer_urls,
                                                               const cairnpb::MemberChangeRequest& request,
                                                               std::chrono::milliseconds timeout) {
  cairnpb::MemberChangeResponse response;
  CAIRN_RETURN_IF_ERROR(CallFirst(peer_urls, timeout, [&](cairnpb::Peer::Stub& stub, grpc::ClientContext& ctx) {
    return stub.MemberChange(&ctx, request, &response);
  }));
  return response;
}

Status PeerClient::SendSnapshot(const std::vector<std::string>& peer_urls, uint64_t cluster_id,
                                const std::string& raft_message, const std::string& path,
                                const std::function<bool()>& cancelled) {
  if (peer_urls.empty()) return Status::Unavailable("no peer URL to send the snapshot to");
  auto channel = ChannelFor(peer_urls[0]);
  if (!channel.ok()) return channel.status();
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!file) return Status::IoError("cannot read snapshot " + path);
  auto stub = cairnpb::Peer::NewStub(channel.value());
  grpc::ClientContext context;
  // Big stores take a while; a stalled peer must not hold the slot forever.
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
  cairnpb::SnapshotAck ack;
  auto writer = stub->SendSnapshot(&context, &ack);
  cairnpb::SnapshotChunk chunk;
  chunk.set_cluster_id(cluster_id);
  chunk.set_raft_message(raft_message);
  Sha256 sha;
  std::string buffer(kSnapshotChunkBytes, '\0');
  bool broken = false;
  while (!broken) {
    if (cancelled()) {
      context.TryCancel();
      return Status(StatusCode::kCancelled, "snapshot send cancelled");
    }
    const size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
    chunk.set_data(buffer.substr(0, n));
    sha.Update(chunk.data());
    const bool last = n < buffer.size();
    if (last) chunk.set_sha256(sha.Digest());
    broken = !writer->Write(chunk);
    chunk.clear_cluster_id();
    chunk.clear_raft_message();
    if (last) break;
  }
  if (!broken) writer->WritesDone();
  const grpc::Status st = writer->Finish();
  if (!st.ok()) return Status(static_cast<StatusCode>(st.error_code()), st.error_message());
  return Status::Ok();
}

}  // namespace cairn::transport
