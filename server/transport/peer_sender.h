// PeerSender: the outgoing half of the link to one peer — a queue drained by one
// thread into a long-lived gRPC stream (Peer.Stream).
//
// Messages to an unreachable or slow peer never block the caller or other peers:
// the queue is bounded and a full queue drops the message (Raft retransmits), and a
// broken stream is reported through `on_unreachable` and re-dialed with backoff.
// Thread-safety: Enqueue and Stop are thread-safe; the destructor stops the thread.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cairn/peer.grpc.pb.h"
#include "server/transport/tls.h"

namespace cairn::transport {

struct PeerSenderOptions {
  // etcd's stream buffer: enough for bursts, small enough that a dead peer costs little.
  size_t max_queued_messages = 4096;
  std::chrono::milliseconds redial_backoff{100};
  // This member's peer TLS files: https peers are dialed with TLS (tls.h).
  TlsFiles tls;
};

class PeerSender {
 public:
  PeerSender(uint64_t cluster_id, uint64_t peer_id, std::vector<std::string> peer_urls,
             std::function<void(uint64_t)> on_unreachable, std::function<void()> on_removed,
             PeerSenderOptions options = {});
  ~PeerSender();
  PeerSender(const PeerSender&) = delete;
  PeerSender& operator=(const PeerSender&) = delete;

  // Queues one encoded Raft message. False (and the message is dropped) when the
  // queue is full or the sender is stopping.
  bool Enqueue(std::string encoded_message);
  const std::vector<std::string>& urls() const { return urls_; }
  void Stop();

 private:
  void Run();
  // Sends queued messages until the stream breaks or Stop(). False if it broke.
  bool Pump(cairnpb::Peer::Stub& stub);

  const uint64_t cluster_id_;
  const uint64_t peer_id_;
  const std::vector<std::string> urls_;
  const std::function<void(uint64_t)> on_unreachable_;
  // The peer says this member was removed from the cluster (PERMISSION_DENIED).
  const std::function<void()> on_removed_;
  const PeerSenderOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;                        // guarded by mu_
  bool stopping_ = false;                                // guarded by mu_
  std::shared_ptr<grpc::ClientContext> active_call_;     // guarded by mu_; cancelled by Stop()
  std::string last_refusal_;                          // sender thread only
  std::chrono::steady_clock::time_point last_refusal_logged_;  // sender thread only
  std::thread thread_;
};

}  // namespace cairn::transport
