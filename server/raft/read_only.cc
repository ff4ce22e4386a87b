#include "server/raft/read_only.h"

#include <algorithm>

namespace cairn::raft {

void ReadOnly::AddRequest(Index index, const Message& req) {
  if (pending_.count(req.context) != 0) return;
  pending_.emplace(req.context, ReadIndexStatus{req, index, {}});
  queue_.push_back(req.context);
}

const std::set<NodeId>* ReadOnly::RecvAck(NodeId from, const std::string& ctx) {
  auto it = pending_.find(ctx);
  if (it == pending_.end()) return nullptr;
  it->second.acks.insert(from);
  return &it->second.acks;
}

std::vector<ReadIndexStatus> ReadOnly::Advance(const std::string& ctx) {
  auto pos = std::find(queue_.begin(), queue_.end(), ctx);
  if (pos == queue_.end()) return {};
  std::vector<ReadIndexStatus> out;
  for (auto it = queue_.begin(); it != pos + 1; ++it) {
    auto p = pending_.find(*it);
    out.push_back(std::move(p->second));
    pending_.erase(p);
  }
  queue_.erase(queue_.begin(), pos + 1);
  return out;
}

std::string ReadOnly::LastPendingRequestCtx() const {
  return queue_.empty() ? std::string() : queue_.back();
}

}  // namespace cairn::raft
