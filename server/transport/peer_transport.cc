#include "server/transport/peer_transport.h"

#include "server/common/status.h"
#include "server/raft/codec.h"

namespace cairn::transport {

PeerTransport::PeerTransport(uint64_t cluster_id, std::function<void(uint64_t)> on_unreachable,
                             std::function<void()> on_removed, PeerSenderOptions sender_options)
    : cluster_id_(cluster_id),
      on_unreachable_(std::move(on_unreachable)),
      on_removed_(std::move(on_removed)),
      sender_options_(std::move(sender_options)) {}

PeerTransport::~PeerTransport() { Stop(); }

void PeerTransport::SetPeers(const std::map<uint64_t, std::vector<std::string>>& peers) {
  for (auto it = senders_.begin(); it != senders_.end();) {
    auto wanted = peers.find(it->first);
    it = (wanted == peers.end() || wanted->second != it->second->urls()) ? senders_.erase(it) : std::next(it);
  }
  for (const auto& [id, urls] : peers) {
    if (senders_.count(id) == 0) senders_[id] = std::make_unique<PeerSender>(cluster_id_, id, urls, on_unreachable_, on_removed_, sender_options_);
  }
}

void PeerTransport::Send(const std::vector<raft::Message>& messages) {
  for (const auto& m : messages) {
    CAIRN_CHECK(!raft::IsLocalMsg(m.type) && m.type != raft::MessageType::MsgSnap);
    auto it = senders_.find(m.to);
    if (it == senders_.end() || !it->second->Enqueue(raft::EncodeMessage(m))) on_unreachable_(m.to);
  }
}

void PeerTransport::Stop() { senders_.clear(); }

}  // namespace cairn::transport
