// PeerTransport: sends Raft messages to the other members, one PeerSender per peer.
//
// Send never blocks: a message for a peer whose queue is full, or for an ID with no
// known URLs, is dropped and the peer reported unreachable (Raft then probes it
// gently instead of streaming entries into the void).
// Thread-safety: thread-compatible; the Raft loop owns it. `on_unreachable` runs on
// sender threads or inside Send.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "server/raft/message.h"
#include "server/transport/peer_sender.h"

namespace cairn::transport {

class PeerTransport {
 public:
  // `on_removed` runs (on a sender thread) when a peer says this member was removed.
  PeerTransport(uint64_t cluster_id, std::function<void(uint64_t)> on_unreachable,
                std::function<void()> on_removed = [] {}, PeerSenderOptions sender_options = {});
  ~PeerTransport();
  PeerTransport(const PeerTransport&) = delete;
  PeerTransport& operator=(const PeerTransport&) = delete;

  // Makes the peer set exactly `peers` (ID -> peer URLs): new peers are dialed,
  // departed ones dropped, peers whose URLs changed re-dialed.
  void SetPeers(const std::map<uint64_t, std::vector<std::string>>& peers);
  // REQUIRES: no message is local (raft::IsLocalMsg) or a snapshot (MsgSnap travels
  // through the snapshot sender).
  void Send(const std::vector<raft::Message>& messages);
  void Stop();

 private:
  const uint64_t cluster_id_;
  const std::function<void(uint64_t)> on_unreachable_;
  const std::function<void()> on_removed_;
  const PeerSenderOptions sender_options_;
  std::map<uint64_t, std::unique_ptr<PeerSender>> senders_;
};

}  // namespace cairn::transport
