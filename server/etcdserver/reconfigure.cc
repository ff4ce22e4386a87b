// EtcdServer's membership changes and leader transfer (etcd's Cluster service and
// Maintenance.MoveLeader), with etcd's preconditions (--strict-reconfig-check):
//   * "started" members (that published their attributes) must stay a quorum of the
//     new membership, else "not enough started members";
//   * the leader must hear from enough voters that the change cannot cost the quorum
//     (all of them before an add; a quorum of the rest before removing a live one),
//     else "unhealthy cluster", which clients retry.
// They run on the leader: only it knows how far each follower has got and which ones
// it hears from.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>

#include "server/etcdserver/errors.h"
#include "server/etcdserver/server.h"
#include "server/transport/grpc_address.h"

namespace cairn::etcdserver {
namespace {

// etcd promotes a learner only once its log reaches 90% of the leader's.
constexpr double kLearnerReadyFraction = 0.9;
// etcd's default --experimental-max-learners.
constexpr size_t kMaxLearners = 1;

size_t Quorum(size_t voters) { return voters / 2 + 1; }

size_t Started(const std::vector<cairnpb::Member>& members, uint64_t except) {
  size_t n = 0;
  for (const auto& m : members) n += !m.is_learner() && m.id() != except && !m.name().empty();
  return n;
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

void EtcdServer::FinishConfChange(uint64_t id, const Status& status) {
  std::vector<std::function<void(Status)>> waiters;
  {
    std::lock_guard lock(conf_wait_mu_);
    auto [first, last] = conf_waiters_.equal_range(id);
    for (auto it = first; it != last; ++it) waiters.push_back(std::move(it->second));
    conf_waiters_.erase(first, last);
  }
  for (auto& w : waiters) w(status);
}

size_t EtcdServer::ActiveVoters(const std::vector<uint64_t>& voters) const {
  const auto now = std::chrono::steady_clock::now();
  const auto window = 2 * options_.election_timeout;
  std::lock_guard lock(heard_mu_);
  size_t active = 0;
  for (uint64_t id : voters) {
    if (id == identity_.member_id) {
      ++active;
      continue;
    }
    auto it = last_heard_.find(id);
    if (it != last_heard_.end() && now - it->second <= window) ++active;
  }
  return active;
}

Status EtcdServer::ProposeConfChangeAndWait(raft::ConfChange cc) {
  auto applied = std::make_shared<std::promise<Status>>();
  auto done = applied->get_future();
  {
    std::lock_guard lock(conf_wait_mu_);
    conf_waiters_.emplace(cc.node_id, [applied](Status st) { applied->set_value(std::move(st)); });
  }
  CAIRN_RETURN_IF_ERROR(node_->ProposeConfChange(std::move(cc)));
  if (done.wait_for(RequestTimeout()) != std::future_status::ready) return ErrTimeout();
  return done.get();
}

Result<cairnpb::MemberChangeResponse> EtcdServer::ChangeMembership(const cairnpb::MemberChangeRequest& request) {
  auto leader = LeaseLeader();
  if (!leader.ok()) return leader.status();
  // The leader may wait out its own request timeout (a conf change being applied).
  const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(RequestTimeout()) + std::chrono::seconds(2);
  auto changed = leader->is_self ? ChangeMembershipAsLeader(request)
                                 : peer_client_.MemberChange(leader->peer_urls, request, timeout);
  // Leadership moved on meanwhile: etcd's answer, which clients retry.
  if (!changed.ok() && changed.status() == ErrNotLeader()) return ErrLeaderChanged();
  return changed;
}

Result<cairnpb::MemberChangeResponse> EtcdServer::ChangeMembershipAsLeader(const cairnpb::MemberChangeRequest& request) {
  if (!IsLeader()) return ErrNotLeader();
  cairnpb::MemberChangeResponse response;
  Status st;
  switch (request.change_case()) {
    case cairnpb::MemberChangeRequest::kAdd: {
      const auto& add = request.add();
      auto added = AddMember({add.peerurls().begin(), add.peerurls().end()}, add.islearner());
      if (added.ok()) *response.mutable_added() = std::move(added.value());
      st = added.status();
      break;
    }
    case cairnpb::MemberChangeRequest::kRemove:
      st = RemoveMember(request.remove().id());
      break;
    case cairnpb::MemberChangeRequest::kUpdate:
      st = UpdateMember(request.update().id(), {request.update().peerurls().begin(), request.update().peerurls().end()});
      break;
    case cairnpb::MemberChangeRequest::kPromote:
      st = PromoteMember(request.promote().id());
      break;
    case cairnpb::MemberChangeRequest::CHANGE_NOT_SET:
      return Status::InvalidArgument("membership change: no change given");
  }
  if (!st.ok()) return st;
  for (auto& m : membership_.List()) *response.add_members() = std::move(m);
  return response;
}

Result<cairnpb::Member> EtcdServer::AddMember(const std::vector<std::string>& peer_urls, bool is_learner) {
  if (!IsLeader()) return ErrNotLeader();
  if (peer_urls.empty()) return ErrBadMemberUrls();
  for (const auto& url : peer_urls) {
    if (!transport::DialTarget(url).ok()) return ErrBadMemberUrls();
  }
  const std::vector<cairnpb::Member> members = membership_.List();
  std::vector<uint64_t> voters;
  size_t learners = 0;
  for (const auto& m : members) {
    for (const auto& url : m.peer_urls()) {
      if (std::find(peer_urls.begin(), peer_urls.end(), url) != peer_urls.end()) return ErrPeerUrlExists();
    }
    if (m.is_learner()) {
      ++learners;
    } else {
      voters.push_back(m.id());
    }
  }
  if (is_learner && learners >= kMaxLearners) return ErrTooManyLearners();
  // A new voter counts toward the quorum before it has started: the members already
  // running must be a quorum of the larger cluster, or adding it stalls the cluster.
  if (!is_learner && Started(members, 0) < Quorum(voters.size() + 1)) return ErrNotEnoughStartedMembers();
  if (ActiveVoters(voters) < voters.size()) return ErrUnhealthy();

  // Like etcd, the ID mixes in the time so that re-adding the same URLs gets a new one.
  const auto now = std::chrono::system_clock::now().time_since_epoch().count();
  uint64_t id = ComputeMemberId(Sorted(peer_urls), options_.initial_cluster_token + std::to_string(now));
  while (id == 0 || membership_.Get(id) || membership_.IsRemoved(id)) ++id;
  cairnpb::Member member;
  member.set_id(id);
  for (const auto& url : peer_urls) member.add_peer_urls(url);
  member.set_is_learner(is_learner);
  const auto type = is_learner ? raft::ConfChangeType::kAddLearnerNode : raft::ConfChangeType::kAddNode;
  CAIRN_RETURN_IF_ERROR(ProposeConfChangeAndWait({type, id, EncodeMemberContext(member)}));
  spdlog::info("added member {} ({}) with peer URLs {}", HexId(id), is_learner ? "learner" : "voter", peer_urls[0]);
  return member;
}

Status EtcdServer::RemoveMember(uint64_t id) {
  if (!IsLeader()) return ErrNotLeader();
  auto target = membership_.Get(id);
  if (!target) return ErrMemberNotFound();
  if (!target->is_learner()) {
    const std::vector<cairnpb::Member> members = membership_.List();
    std::vector<uint64_t> voters;
    for (const auto& m : members) {
      if (!m.is_learner()) voters.push_back(m.id());
    }
    if (voters.size() == 1 || Started(members, id) < Quorum(voters.size() - 1)) return ErrNotEnoughStartedMembers();
    // A member that is down is not part of the working quorum: removing it is safe.
    const bool target_active = id == identity_.member_id || ActiveVoters({id}) == 1;
    if (target_active && ActiveVoters(voters) - 1 < Quorum(voters.size() - 1)) return ErrUnhealthy();
  }
  CAIRN_RETURN_IF_ERROR(ProposeConfChangeAndWait({raft::ConfChangeType::kRemoveNode, id, ""}));
  spdlog::info("removed member {}", HexId(id));
  return Status::Ok();
}

Status EtcdServer::UpdateMember(uint64_t id, const std::vector<std::string>& peer_urls) {
  if (!IsLeader()) return ErrNotLeader();
  if (peer_urls.empty()) return ErrBadMemberUrls();
  for (const auto& url : peer_urls) {
    if (!transport::DialTarget(url).ok()) return ErrBadMemberUrls();
  }
  if (!membership_.Get(id)) return ErrMemberNotFound();
  for (const auto& m : membership_.List()) {
    if (m.id() == id) continue;
    for (const auto& url : m.peer_urls()) {
      if (std::find(peer_urls.begin(), peer_urls.end(), url) != peer_urls.end()) return ErrPeerUrlExists();
    }
  }
  cairnpb::RaftRequest request;
  request.mutable_member_update()->set_id(id);
  for (const auto& url : peer_urls) request.mutable_member_update()->add_peer_urls(url);
  ApplyResult result = Propose(std::move(request));
  return result.ok() ? Status::Ok() : result.status();
}

Status EtcdServer::PromoteMember(uint64_t id) {
  if (!IsLeader()) return ErrNotLeader();
  auto target = membership_.Get(id);
  if (!target) return ErrMemberNotFound();
  if (!target->is_learner()) return ErrMemberNotLearner();
  {
    const std::map<uint64_t, raft::PeerProgress> progress = node_->Progress();
    auto learner = progress.find(id);
    auto self = progress.find(identity_.member_id);
    if (learner == progress.end() || self == progress.end() ||
        static_cast<double>(learner->second.match) < kLearnerReadyFraction * static_cast<double>(self->second.match)) {
      return ErrLearnerNotReady();
    }
  }
  const std::vector<cairnpb::Member> members = membership_.List();
  size_t voters = 1;  // the learner about to vote
  for (const auto& m : members) voters += !m.is_learner();
  if (Started(members, 0) + 1 < Quorum(voters)) return ErrNotEnoughStartedMembers();
  CAIRN_RETURN_IF_ERROR(ProposeConfChangeAndWait({raft::ConfChangeType::kAddNode, id, ""}));
  spdlog::info("promoted learner {} to voter", HexId(id));
  return Status::Ok();
}

Status EtcdServer::MoveLeader(uint64_t target) {
  if (!IsLeader()) return ErrNotLeader();
  if (target == identity_.member_id) return Status::Ok();
  auto member = membership_.Get(target);
  if (!member || member->is_learner()) return ErrBadLeaderTransferee();
  CAIRN_RETURN_IF_ERROR(node_->TransferLeadership(target));
  // etcd gives the transfer the request timeout.
  const auto deadline = std::chrono::steady_clock::now() + RequestTimeout();
  while (std::chrono::steady_clock::now() < deadline) {
    if (node_->leader() == target) return Status::Ok();
    std::this_thread::sleep_for(options_.heartbeat_interval / 4);
  }
  return ErrTimeout();
}

}  // namespace cairn::etcdserver
