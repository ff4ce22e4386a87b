#include "server/transport/peer_sender.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <spdlog/spdlog.h>

#include "server/transport/grpc_address.h"
#include "server/transport/peer_keepalive.h"

namespace cairn::transport {
namespace {

std::shared_ptr<grpc::Channel> DialPeer(const std::string& url, const std::string& target, const TlsFiles& tls) {
  grpc::ChannelArguments args;
  // gRPC's default reconnect backoff grows to two minutes; a restarted peer must be
  // reached again within an election timeout or so.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  SetPeerKeepalive(args);
  args.SetMaxSendMessageSize(-1);
  args.SetMaxReceiveMessageSize(-1);
  return grpc::CreateCustomChannel(target, ChannelCredentialsFor(url, tls), args);
}

}  // namespace

PeerSender::PeerSender(uint64_t cluster_id, uint64_t peer_id, std::vector<std::string> peer_urls,
                       std::function<void(uint64_t)> on_unreachable, std::function<void()> on_removed,
                       PeerSenderOptions options)
    : cluster_id_(cluster_id),
      peer_id_(peer_id),
      urls_(std::move(peer_urls)),
      on_unreachable_(std::move(on_unreachable)),
      on_removed_(std::move(on_removed)),
      options_(options) {
  thread_ = std::thread([this] { Run(); });
}

PeerSender::~PeerSender() { Stop(); }

bool PeerSender::Enqueue(std::string encoded_message) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= options_.max_queued_messages) return false;
    queue_.push_back(std::move(encoded_message));
  }
  cv_.notify_one();
  return true;
}

void PeerSender::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (active_call_) active_call_->TryCancel();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PeerSender::Run() {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (const auto& url : urls_) {
    auto target = DialTarget(url);
    if (!target.ok()) {
      spdlog::error("peer {:x}: cannot dial {}: {}", peer_id_, url, target.status().message());
      continue;
    }
    channels.push_back(DialPeer(url, target.value(), options_.tls));
  }
  if (channels.empty()) return;
  size_t next = 0;
  bool was_reachable = true;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    auto stub = cairnpb::Peer::NewStub(channels[next++ % channels.size()]);
    if (Pump(*stub)) return;  // stopped
    if (was_reachable) spdlog::warn("peer {:x} is unreachable; retrying", peer_id_);
    was_reachable = false;
    on_unreachable_(peer_id_);
    std::unique_lock lock(mu_);
    // What queued while the link was down is stale; Raft resends what still matters.
    queue_.clear();
    cv_.wait_for(lock, options_.redial_backoff, [&] { return stopping_; });
  }
}

bool PeerSender::Pump(cairnpb::Peer::Stub& stub) {
  auto context = std::make_shared<grpc::ClientContext>();
  {
    std::lock_guard lock(mu_);
    if (stopping_) return true;
    active_call_ = context;
  }
  cairnpb::PeerStreamSummary summary;
  auto writer = stub.Stream(context.get(), &summary);
  std::deque<std::string> batch;
  bool broken = false;
  bool stopped = false;
  while (!broken && !stopped) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      stopped = stopping_;
      if (!stopped) batch.swap(queue_);
    }
    cairnpb::PeerMessage message;
    message.set_cluster_id(cluster_id_);
    for (size_t i = 0; i < batch.size(); ++i) {
      message.set_raft_message(std::move(batch[i]));
      // Everything taken from the queue together leaves in one flush.
      const bool more = i + 1 < batch.size();
      if (!writer->Write(message, more ? grpc::WriteOptions().set_buffer_hint() : grpc::WriteOptions())) {
        broken = true;
        break;
      }
    }
    batch.clear();
  }
  if (!broken) writer->WritesDone();
  const grpc::Status status = writer->Finish();
  if (broken && status.error_code() == grpc::StatusCode::PERMISSION_DENIED) on_removed_();
  if (broken && (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
                 status.error_code() == grpc::StatusCode::PERMISSION_DENIED)) {
    // Refusals repeat on every redial (each 100 ms): say it when it starts, then rarely.
    const auto now = std::chrono::steady_clock::now();
    if (status.error_message() != last_refusal_ || now - last_refusal_logged_ > std::chrono::seconds(30)) {
      spdlog::error("peer {:x} refused our messages: {}", peer_id_, status.error_message());
      last_refusal_ = status.error_message();
      last_refusal_logged_ = now;
    }
  }
  std::lock_guard lock(mu_);
  active_call_.reset();
  return stopped;
}

}  // namespace cairn::transport
